"""Tryton's own tests of the modules the suite extends, with the suite's
modules activated too: our modules add, they do not break.

    python -m retail_setup.upstream [MODULE ...]   (default: UPSTREAM)

runs the installed ``trytond.modules.<module>.tests`` test modules (module
tests and proteus scenarios) unchanged, from the installed packages; the
only difference is the list of modules their databases activate: every
call of ``trytond.tests.test_tryton.activate_module`` (module tests) and of
``trytond.tests.tools.activate_modules`` (scenarios) also activates
RETAIL_MODULES.  The environment is the one of Tryton's tests (DB_NAME,
DB_CACHE, TRYTOND_DATABASE_URI); the test runner (setup/test) runs it on
SQLite and on PostgreSQL."""
import importlib
import os
import pkgutil
import sys
import unittest

# The upstream modules our modules extend, whose tests must keep passing
UPSTREAM = ['sale_point', 'stock_lot', 'stock_lot_sled', 'product_price_list']
RETAIL_MODULES = ['retail', 'retail_sync']


def with_retail(modules):
    "modules followed by the suite's modules that it does not name"
    modules = [modules] if isinstance(modules, str) else list(modules)
    return modules + [m for m in RETAIL_MODULES if m not in modules]


def activate_retail_too():
    """Make Tryton's test helpers activate RETAIL_MODULES with the modules
    a test asks for"""
    from trytond.tests import test_tryton, tools

    activate_module = test_tryton.activate_module
    activate_modules = tools.activate_modules

    def activate_module_with_retail(modules, *args, **kwargs):
        return activate_module(with_retail(modules), *args, **kwargs)

    def activate_modules_with_retail(modules, *setup):
        return activate_modules(with_retail(modules), *setup)

    test_tryton.activate_module = activate_module_with_retail
    tools.activate_modules = activate_modules_with_retail


def test_modules(module):
    "The names of the upstream module's test modules"
    package = importlib.import_module(f'trytond.modules.{module}.tests')
    return [f'{package.__name__}.{info.name}'
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith('test_')]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    modules = [a for a in argv if not a.startswith('-')] or UPSTREAM
    options = [a for a in argv if a.startswith('-')]
    os.environ.setdefault('DB_NAME', ':memory:')
    activate_retail_too()
    names = [n for m in modules for n in test_modules(m)]
    program = unittest.main(module=None, exit=False,
        argv=['retail_setup.upstream', *options, *names])
    return 0 if program.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
