# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The back office's translations of a module, as Tryton's own tools see
them (Administration › Localization: Set Translations, Synchronize
Translations, Export Translations)."""
import os

from trytond.modules import get_module_info
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction


def po_path(module, lang):
    "The path of module's locale/LANG.po"
    return os.path.join(
        get_module_info(module)['directory'], 'locale', f'{lang}.po')


def load(module, lang):
    """Make lang a translatable language and load module's locale/LANG.po
    (when it exists), as activating the module with lang does"""
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    language, = Lang.search([('code', '=', lang)])
    if not language.translatable:
        language.translatable = True
        language.save()
    path = po_path(module, lang)
    if os.path.exists(path):
        Translation.translation_import(lang, module, [path])


def synchronize(lang):
    """Record every string of the activated modules (views, reports,
    selections, fields, models, messages) and give lang an entry for each
    one it lacks, as the Set and Synchronize Translations wizards do"""
    pool = Pool()
    Lang = pool.get('ir.lang')
    TranslationSet = pool.get('ir.translation.set', type='wizard')
    TranslationUpdate = pool.get('ir.translation.update', type='wizard')
    session_id, _, _ = TranslationSet.create()
    TranslationSet(session_id).transition_set_()
    TranslationSet.delete(session_id)
    language, = Lang.search([('code', '=', lang)])
    session_id, _, _ = TranslationUpdate.create()
    update = TranslationUpdate(session_id)
    update.start.language = language
    with Transaction().set_context(active_model=None):
        update.do_update({})
    TranslationUpdate.delete(session_id)


def untranslated(module, lang):
    """The (type, name, source) of module's strings that have no
    translation in lang, or a fuzzy one"""
    Translation = Pool().get('ir.translation')
    load(module, lang)
    synchronize(lang)
    missing = Translation.search([
            ('lang', '=', lang),
            ('module', '=', module),
            ['OR', ('value', '=', None), ('value', '=', ''),
                ('fuzzy', '=', True)],
            ])
    return sorted((t.type, t.name, t.src or '') for t in missing)


def export(module, lang):
    "The PO file of module's strings in lang, as bytes"
    Translation = Pool().get('ir.translation')
    load(module, lang)
    synchronize(lang)
    return Translation.translation_export(lang, module)


class FrenchTranslation:
    """The back office speaks French: locale/fr.po of the module translates
    every string (models, fields, help, selections, views, menus, groups,
    record rules, messages); a string added without its translation fails.
    Mixed into a unittest.TestCase of each module, which names its module"""
    module = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module([cls.module])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @with_transaction()
    def test_every_string_translated_in_french(self):
        missing = untranslated(self.module, 'fr')
        self.assertEqual(missing, [], "Strings without a French translation "
            f"in {self.module}/locale/fr.po (type, name, source; refresh "
            f"with python -m retail_setup.po {self.module}):\n"
            + '\n'.join(map(repr, missing)))
