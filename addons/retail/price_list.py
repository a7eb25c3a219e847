# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Price list formulas the tills compute offline.

A till evaluates a branch price list line itself, with exact decimal
arithmetic, when its formula uses only: the names ``unit_price`` and
``list_price``, numeric literals, ``Decimal("...")`` of a literal, the
operators ``+ - * /``, unary ``+ -`` and parentheses.  Anything else (cost
prices, comparisons, conditions, other functions) is computed by the server
only: the line is sent to the tills marked as not offline and a till falls
back to the product's own price with a "price not available offline"
notice; the server flags such sales as price drift."""
import ast
import io
import re
import tokenize

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import PriceListOfflineWarning

OFFLINE_NAMES = {'unit_price', 'list_price'}
NUMBER = re.compile(r'^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$')
DECIMAL_STRING = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$')
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _node_offline(node):
    if isinstance(node, ast.Expression):
        return _node_offline(node.body)
    if isinstance(node, ast.BinOp):
        return (isinstance(node.op, _OPERATORS)
            and _node_offline(node.left) and _node_offline(node.right))
    if isinstance(node, ast.UnaryOp):
        return (isinstance(node.op, (ast.UAdd, ast.USub))
            and _node_offline(node.operand))
    if isinstance(node, ast.Constant):
        return (isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))
    if isinstance(node, ast.Name):
        return node.id in OFFLINE_NAMES
    if isinstance(node, ast.Call):
        if (not isinstance(node.func, ast.Name) or node.func.id != 'Decimal'
                or node.keywords or len(node.args) != 1):
            return False
        arg, = node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return bool(DECIMAL_STRING.match(arg.value))
        return (isinstance(arg, ast.Constant)
            and isinstance(arg.value, int)
            and not isinstance(arg.value, bool))
    return False


def formula_offline(formula, price=None):
    """Whether a till computes the formula exactly offline, for a price list
    whose unit_price base is price ('list_price', 'cost_price' or None)"""
    if not formula or not isinstance(formula, str):
        return False
    try:
        tree = ast.parse(formula.strip(), mode='eval')
        tokens = list(tokenize.generate_tokens(
                io.StringIO(formula.strip()).readline))
    except (SyntaxError, tokenize.TokenError, ValueError):
        return False
    for token in tokens:
        if token.type == tokenize.NUMBER and not NUMBER.match(token.string):
            return False
    if not _node_offline(tree):
        return False
    if price == 'cost_price':
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if 'unit_price' in names:
            return False
    return True


class PriceListLine(metaclass=PoolMeta):
    __name__ = 'product.price_list.line'

    retail_offline = fields.Function(fields.Boolean(
            "Computed Offline",
            help="Checked when the tills compute this formula themselves.\n"
            "They do for formulas made of unit_price, list_price, numbers, "
            "Decimal(\"...\"), + - * / and parentheses. For any other "
            "formula the tills sell at the product's own price with a "
            "\"price not available offline\" notice and the sale is flagged "
            "as price drift."),
        'get_retail_offline')

    def get_retail_offline(self, name):
        return formula_offline(
            self.formula,
            self.price_list.price if self.price_list else None)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        cls.check_retail_offline(lines, field_names)

    @classmethod
    def check_retail_offline(cls, lines, field_names=None):
        "Warn when a branch's price list gets a line the tills cannot compute"
        if field_names and not (field_names & {'price_list', 'formula'}):
            return
        pool = Pool()
        Branch = pool.get('retail.branch')
        Warning = pool.get('res.user.warning')
        lines = [line for line in lines if not formula_offline(
                line.formula, line.price_list.price)]
        if not lines:
            return
        with Transaction().set_context(active_test=False):
            branches = Branch.search([
                    ('price_list', 'in',
                        list({line.price_list.id for line in lines})),
                    ])
        used = {b.price_list.id: b for b in branches}
        for line in lines:
            branch = used.get(line.price_list.id)
            if not branch:
                continue
            key = Warning.format('retail_price_list_offline', [line])
            if Warning.check(key):
                raise PriceListOfflineWarning(key, gettext(
                        'retail.msg_price_list_line_not_offline',
                        formula=line.formula,
                        price_list=line.price_list.rec_name,
                        branch=branch.rec_name))
