# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The tax look-ups of a push, kept once for the batch.

Pricing and posting the sales of a push ask, for every line, the customer
taxes of its product (`customer_taxes_used` through its accounting
category), `Tax.compute` of those taxes for its price, quantity and date,
and the company's tax rounding: the same few answers thousands of times.
A `TaxLookup` keeps them for one batch: Push makes one per batch,
posting.Poster uses it, and while it is active (`with lookup.active():`)
`sale.point.sale.line`'s taxes, `account.tax`'s compute and
`account.configuration`'s tax rounding answer from it, so Tryton's own
`TaxableMixin._get_taxes` and `sale.point.sale.post` run unchanged but do
not look the same thing up twice.

It lives as long as the batch, inside one transaction, so nothing it keeps
can change under it; outside a batch nothing is kept.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

_current = ContextVar('retail_sync_tax_lookup', default=None)


class TaxLookup:
    "The tax look-ups of one batch"

    def __init__(self):
        # {(company id, accounting category id or ('template', id)):
        #   [account.tax]}
        self._customer_taxes = {}
        # {(tax ids, str(price), repr(quantity), date): Tax.compute result}
        self._computed = {}
        # {(pattern, context company): tax rounding of the configuration}
        self._roundings = {}
        # {tax id: account.tax}: the records Tax.compute runs
        # on, kept so that what it reads of them (their children, an
        # x2many that trytond reads again for every new record) is read
        # once for the batch
        self._taxes = {}

    @staticmethod
    def current():
        "The lookup active in this context, or None"
        return _current.get()

    @contextmanager
    def active(self):
        "Make it the lookup of sale lines' taxes and Tax.compute"
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

    @staticmethod
    def customer_taxes_key(product, company):
        template = product.template
        category = template.account_category
        return (company.id,
            category.id if category else ('template', template.id))

    def customer_taxes(self, product, company, compute=None):
        """The customer taxes of product for company: compute() the first
        time for its accounting category (its template when it has none),
        by default product.customer_taxes_used in the company's context"""
        key = self.customer_taxes_key(product, company)
        if compute is None:
            def compute():
                Product = product.__class__
                with Transaction().set_context(company=company.id):
                    return Product(product.id).customer_taxes_used
        return self.customer_taxes_of(key, compute)

    def customer_taxes_of(self, key, compute):
        """The customer taxes of key (as customer_taxes_key makes it):
        compute() the first time"""
        if key not in self._customer_taxes:
            self._customer_taxes[key] = compute()
        return self._customer_taxes[key]

    def compute(self, taxes, price_unit, quantity, date, compute):
        """compute(taxes) the first time for the same taxes, price,
        quantity and date, with the records of taxes kept for the batch
        (kept_taxes); a copy of each tax's dict every time"""
        key = (tuple(getattr(t, 'id', t) for t in taxes),
            str(price_unit), repr(quantity), date)
        if key not in self._computed:
            self._computed[key] = compute(self.kept_taxes(taxes))
        return [dict(t) for t in self._computed[key]]

    def kept_taxes(self, taxes):
        """The records of taxes (account.tax records or ids) kept for the
        batch: the same instance for the same tax (the first given)"""
        if not taxes:
            return taxes
        Tax = Pool().get('account.tax')
        kept = []
        for tax in taxes:
            id_ = getattr(tax, 'id', tax)
            if id_ is None or id_ < 0:
                # A tax not saved: as given
                kept.append(tax)
                continue
            record = self._taxes.get(id_)
            if record is None:
                if isinstance(tax, int):
                    tax = Tax(tax)
                record = self._taxes[id_] = tax
            kept.append(record)
        return kept


    def tax_rounding(self, pattern, compute):
        "compute() the first time for the same pattern and company"
        key = (tuple(sorted(pattern.items())),
            Transaction().context.get('company'))
        if key not in self._roundings:
            self._roundings[key] = compute()
        return self._roundings[key]


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    def get_multivalue(self, name, **pattern):
        lookup = TaxLookup.current()
        if lookup is None or name != 'tax_rounding':
            return super().get_multivalue(name, **pattern)
        parent = super()
        return lookup.tax_rounding(pattern,
            lambda: parent.get_multivalue(name, **pattern))


class Tax(metaclass=PoolMeta):
    __name__ = 'account.tax'

    @classmethod
    def compute(cls, taxes, price_unit, quantity, date):
        lookup = TaxLookup.current()
        if lookup is None:
            return super().compute(taxes, price_unit, quantity, date)
        parent = super()
        return lookup.compute(taxes, price_unit, quantity, date,
            lambda kept: parent.compute(kept, price_unit, quantity, date))
