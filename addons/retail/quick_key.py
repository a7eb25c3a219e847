# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import Pool

COLOURS = [
    (None, ""),
    ('blue', "Blue"),
    ('green', "Green"),
    ('orange', "Orange"),
    ('red', "Red"),
    ('purple', "Purple"),
    ('teal', "Teal"),
    ('grey', "Grey"),
    ]


class QuickKey(sequence_ordered(), ModelSQL, ModelView):
    "A product key on the checkout screen of a branch's tills"
    __name__ = 'retail.quick_key'

    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, ondelete='CASCADE',
        help="The branch whose tills show the key.")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        domain=[('salable', '=', True)],
        help="The product a tap on the key sells.")
    label = fields.Char(
        "Label",
        help="The text of the key; empty shows the product's name.")
    colour = fields.Selection(COLOURS, "Colour",
        help="The colour of the key on the till.")

    @classmethod
    def default_branch(cls):
        "The user's branch when they have only one"
        branches = Pool().get('res.user').get_branches()
        return branches[0] if len(branches) == 1 else None

    def get_rec_name(self, name):
        return self.label or (self.product.rec_name if self.product else '')

    @fields.depends('product', 'label')
    def on_change_product(self):
        if self.product and not self.label:
            self.label = self.product.name
