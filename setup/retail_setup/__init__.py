"""Set-up, demo data and test tooling of the retail suite.

Run through the scripts beside this package: ``setup/start`` and
``setup/test``."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
                __file__))))
VAR = os.path.join(ROOT, 'var')
ADDONS = os.path.join(ROOT, 'addons')
MODULES = ['retail']


class SetupError(Exception):
    """An error for the person at the terminal: one line, what is wrong and
    what to do; the CLI prints it without a traceback."""


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
