# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The tills' side of the lots' markdowns, through retail_sync's hooks: the
lots a till pulls carry their branch's markdowns, and a sale of a lot at
its markdown price is not a price drift."""
from trytond.modules.retail_sync.changelog import ChangeLogMixin
from trytond.modules.retail_sync.wire import dec
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class LotMarkdown(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'retail.stock.lot.markdown'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # The lot changes for the tills of the markdown's branch
        return [('lot', [r.lot.id for r in records],
                {r.lot.id: [r.branch.id] for r in records})]


class Pull(metaclass=PoolMeta):
    __name__ = 'retail.sync.pull'

    @classmethod
    def serialise(cls, kind, ids, scope):
        """A lot gets "markdowns": its markdowns in the terminal's branch
        that have not ended, as [{unit_price, start_date, end_date}]"""
        result = super().serialise(kind, ids, scope)
        if kind == 'lot':
            pool = Pool()
            Markdown = pool.get('retail.stock.lot.markdown')
            Date = pool.get('ir.date')
            with Transaction().set_context(company=scope.company.id):
                today = Date.today()
            lots = [i for i, data in result.items() if data]
            markdowns = {i: [] for i in lots}
            for markdown in Markdown.search([
                        ('lot', 'in', lots),
                        ('branch', '=', scope.branch.id),
                        ['OR',
                            ('end_date', '=', None),
                            ('end_date', '>=', today),
                            ],
                        ], order=[('start_date', 'ASC'), ('id', 'ASC')]):
                markdowns[markdown.lot.id].append({
                        'unit_price': dec(markdown.unit_price),
                        'start_date': markdown.start_date.isoformat(),
                        'end_date': (markdown.end_date.isoformat()
                            if markdown.end_date else None),
                        })
            for i in lots:
                result[i]['markdowns'] = markdowns[i]
        return result


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def lot_unit_price(cls, batch, product, quantity, date, lots):
        """The markdown price of the line's lots in the terminal's branch on
        the sale's date, when every lot of the line has the same one"""
        price = super().lot_unit_price(batch, product, quantity, date, lots)
        if price is not None or not lots:
            return price
        Markdown = Pool().get('retail.stock.lot.markdown')
        prices = {Markdown.price(lot, batch.branch, date) for lot, _ in lots}
        if len(prices) == 1 and None not in prices:
            return prices.pop()
        return None
