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
import re

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import PriceListOfflineWarning

OFFLINE_NAMES = {'unit_price', 'list_price'}
# The tokens of the offline grammar, the same as the tills' parser
# (pos_offline_client/src/services/pricing.js)
TOKEN = re.compile(r"""
    (?P<space>[ \t]+)
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<name>[A-Za-z_][A-Za-z_0-9]*)
    |(?P<string>"[^"\\\n]*"|'[^'\\\n]*')
    |(?P<op>[-+*/(),])
    """, re.VERBOSE)
DECIMAL_STRING = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$')


def _tokens(formula):
    tokens, position = [], 0
    while position < len(formula):
        match = TOKEN.match(formula, position)
        if not match:
            raise ValueError(formula)
        position = match.end()
        if match.lastgroup != 'space':
            tokens.append((match.lastgroup, match.group()))
    return tokens


class _Recognizer:
    """expression := term (('+' | '-') term)*
    term := unary (('*' | '/') unary)*
    unary := ('+' | '-') unary | primary
    primary := number | name | 'Decimal' '(' string | integer ')'
        | '(' expression ')'"""

    def __init__(self, tokens):
        self.tokens = tokens
        self.index = 0
        self.names = set()

    def peek(self):
        if self.index < len(self.tokens):
            return self.tokens[self.index]
        return (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (
                value and token[1] != value):
            raise ValueError(token)
        self.index += 1
        return token

    def expression(self):
        self.term()
        while self.peek() in {('op', '+'), ('op', '-')}:
            self.take()
            self.term()

    def term(self):
        self.unary()
        while self.peek() in {('op', '*'), ('op', '/')}:
            self.take()
            self.unary()

    def unary(self):
        if self.peek() in {('op', '+'), ('op', '-')}:
            self.take()
            self.unary()
        else:
            self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == 'number':
            return
        if kind == 'name' and value == 'Decimal':
            self.take('op', '(')
            kind, value = self.take()
            if kind == 'string':
                if not DECIMAL_STRING.match(value[1:-1]):
                    raise ValueError(value)
            elif kind != 'number' or not value.isdigit():
                raise ValueError(value)
            self.take('op', ')')
        elif kind == 'name':
            if value not in OFFLINE_NAMES:
                raise ValueError(value)
            self.names.add(value)
        elif (kind, value) == ('op', '('):
            self.expression()
            self.take('op', ')')
        else:
            raise ValueError(value)


def formula_offline(formula, price=None):
    """Whether a till computes the formula exactly offline, for a price list
    whose unit_price base is price ('list_price', 'cost_price' or None)"""
    if not formula or not isinstance(formula, str):
        return False
    formula = formula.strip()
    try:
        ast.parse(formula, mode='eval')
        recognizer = _Recognizer(_tokens(formula))
        recognizer.expression()
        if recognizer.index != len(recognizer.tokens):
            return False
    except (SyntaxError, ValueError):
        return False
    # Cost prices are not sent to the tills
    return not (price == 'cost_price' and 'unit_price' in recognizer.names)


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
