"""Decimal money handling: amounts arrive as decimal strings and never become floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from .errors import ValidationError

_DECIMAL_RE = re.compile(r"^-?\d{1,15}(\.\d{1,8})?$")


def parse_amount(value: Any, field: str) -> Decimal:
    """Parse a decimal string such as ``"12.50"`` or ``"-0.5"``.

    JSON numbers are refused on purpose: they may already have been through a
    binary float on the way.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValidationError(
            f"{field} must be a decimal string such as \"12.50\", got {type(value).__name__}",
            field,
        )
    text = value.strip()
    if not _DECIMAL_RE.match(text):
        raise ValidationError(
            f"{field} must be a decimal string such as \"12.50\" (digits, optional '-' and "
            f"'.'), got {value!r}",
            field,
        )
    return Decimal(text)


@dataclass(frozen=True)
class Currency:
    """How amounts are printed."""

    symbol: str = ""
    position: str = "before"  # "before" or "after"
    decimals: int = 2
    decimal_separator: str = "."
    thousands_separator: str = ""

    @classmethod
    def from_json(cls, data: Any, field: str = "currency") -> Currency:
        if data is None:
            return cls()
        if isinstance(data, str):
            return cls(symbol=data)
        if not isinstance(data, dict):
            raise ValidationError(f"{field} must be an object or a string", field)
        unknown = set(data) - {
            "symbol", "position", "decimals", "decimal_separator", "thousands_separator",
        }
        if unknown:
            raise ValidationError(f"{field} has unknown keys: {', '.join(sorted(unknown))}", field)
        symbol = data.get("symbol", "")
        position = data.get("position", "before")
        decimals = data.get("decimals", 2)
        dsep = data.get("decimal_separator", ".")
        tsep = data.get("thousands_separator", "")
        if not isinstance(symbol, str) or len(symbol) > 8:
            raise ValidationError(f"{field}.symbol must be a string of at most 8 characters",
                                  f"{field}.symbol")
        if position not in ("before", "after"):
            raise ValidationError(f"{field}.position must be \"before\" or \"after\"",
                                  f"{field}.position")
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 4:
            raise ValidationError(f"{field}.decimals must be an integer from 0 to 4",
                                  f"{field}.decimals")
        for key, sep in (("decimal_separator", dsep), ("thousands_separator", tsep)):
            if not isinstance(sep, str) or len(sep) > 1:
                raise ValidationError(f"{field}.{key} must be a single character",
                                      f"{field}.{key}")
        return cls(symbol, position, decimals, dsep, tsep)

    def format(self, amount: Decimal) -> str:
        """Format with at least ``decimals`` places; never rounds given digits away."""
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent < self.decimals:
            amount = amount.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)
        sign = "-" if amount < 0 else ""
        digits = f"{abs(amount):f}"
        whole, _, frac = digits.partition(".")
        if self.thousands_separator:
            groups = []
            while len(whole) > 3:
                groups.insert(0, whole[-3:])
                whole = whole[:-3]
            groups.insert(0, whole)
            whole = self.thousands_separator.join(groups)
        text = whole + (self.decimal_separator + frac if frac else "")
        if not self.symbol:
            return sign + text
        if self.position == "before":
            return f"{sign}{self.symbol}{text}"
        return f"{sign}{text} {self.symbol}"


def line_total(quantity: Decimal, unit_price: Decimal, decimals: int) -> Decimal:
    """quantity × unit price, rounded half-up to the currency's decimals.

    Exact for every accepted amount (15 digits each): the product has at most
    30 integer and 16 decimal digits, within the 60-digit context used here."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (quantity * unit_price).quantize(Decimal(1).scaleb(-decimals),
                                                rounding=ROUND_HALF_UP)
