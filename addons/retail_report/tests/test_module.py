# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class RetailReportTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Retail Report module"
    module = 'retail_report'


del ModuleTestCase
