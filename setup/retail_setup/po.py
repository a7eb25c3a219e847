"""Refresh an addon's back-office translations.

    python -m retail_setup.po MODULE [LANG]      (LANG: fr by default)

activates MODULE in a scratch SQLite database (Tryton's test database),
exports every string of the module the way *Administration › Localization
› Export Translations* does, keeps the translations that
addons/MODULE/locale/LANG.po already has for the same string and writes
the file back.  New strings come with an empty msgstr: translate them, the
test tests/test_translation.py of the module fails until then."""
import os
import sys


def refresh(module, lang='fr'):
    os.environ.setdefault('DB_NAME', ':memory:')
    import polib

    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction
    activate_module([module])
    from trytond.modules.retail.tests.translation import export, po_path
    path = po_path(module, lang)
    known = {}
    if os.path.exists(path):
        for entry in polib.pofile(path):
            if entry.msgstr and not entry.fuzzy:
                known[(entry.msgctxt, entry.msgid)] = entry.msgstr
                known.setdefault((None, entry.msgid), entry.msgstr)
    with Transaction().start(DB_NAME, 0) as transaction:
        content = export(module, lang)
        transaction.rollback()
    po = polib.pofile(content.decode('utf-8'))
    missing = 0
    for entry in po:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid)) \
            or known.get((None, entry.msgid), '')
        # Tryton marks a guess from a similar string fuzzy: the string is
        # either known (above) or left to translate
        if 'fuzzy' in entry.flags:
            entry.flags.remove('fuzzy')
        missing += not entry.msgstr
    os.makedirs(os.path.dirname(path), exist_ok=True)
    po.save(path)
    return path, len(po), missing


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    path, count, missing = refresh(*argv[:2])
    print(f"{path}: {count} strings, {missing} without a translation")
    return 0


if __name__ == '__main__':
    sys.exit(main())
