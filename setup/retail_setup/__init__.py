"""Set-up, demo data and test tooling of the retail suite.

Run through the scripts beside this package: ``setup/start`` and
``setup/test``."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
                __file__))))
# Where set-up keeps its state (trytond.conf, SQLite databases, the log,
# demo summaries); RETAIL_VAR moves it, e.g. for tests that must never
# touch the var/ of a server a person is running.  The web client
# installed by setup/install stays in WEB_ROOT.
VAR = os.environ.get('RETAIL_VAR') or os.path.join(ROOT, 'var')
WEB_ROOT = os.path.join(ROOT, 'var', 'sao')
ADDONS = os.path.join(ROOT, 'addons')


class SetupError(Exception):
    """An error for the person at the terminal: one line, what is wrong and
    what to do; the CLI prints it without a traceback."""


# Addons that exist for the tests only (setup/install --test installs them)
TEST_ADDONS = os.path.join(ROOT, 'tests', 'addons')


def addon_modules():
    "The Tryton modules of the suite, in dependency-safe order"
    names = []
    only = os.environ.get('RETAIL_ADDONS')
    if only:
        return only.split(',')
    for name in sorted(os.listdir(ADDONS)):
        if os.path.isfile(os.path.join(ADDONS, name, 'tryton.cfg')):
            names.append(name)
    return names


def test_addon_modules():
    "The addons under tests/addons, tested but never installed for a shop"
    if not os.path.isdir(TEST_ADDONS):
        return []
    return [name for name in sorted(os.listdir(TEST_ADDONS))
        if os.path.isfile(os.path.join(TEST_ADDONS, name, 'tryton.cfg'))]


def addon_path(name):
    "The directory of the addon name (shipped or for the tests)"
    for base in [ADDONS, TEST_ADDONS]:
        path = os.path.join(base, name)
        if os.path.isfile(os.path.join(path, 'tryton.cfg')):
            return path
    return os.path.join(ADDONS, name)
