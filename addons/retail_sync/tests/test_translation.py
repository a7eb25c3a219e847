# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import unittest

from trytond.modules.retail.tests.translation import FrenchTranslation


class FrenchTestCase(FrenchTranslation, unittest.TestCase):
    "Every string of retail_sync has its French translation in locale/fr.po"
    module = 'retail_sync'
