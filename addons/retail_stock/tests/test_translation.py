# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import unittest

from trytond.modules.retail.tests.translation import untranslated
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)


class FrenchTestCase(unittest.TestCase):
    """The back office speaks French: locale/fr.po translates every string
    of the module; a string added without its translation fails"""
    module = 'retail_stock'

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
            "in locale/fr.po (python -m retail_setup.po retail_stock)")
