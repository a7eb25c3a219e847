# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""What pulls and pushes share: values as they travel on the wire (decimal
strings, never binary floats), the refusal of a pushed operation, and the
terminal a request serves."""
import datetime as dt
from decimal import Decimal, InvalidOperation

from . import schema
from .changelog import branch_locations


class Rejected(Exception):
    "An operation the server cannot apply: it goes to the quarantine"

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def dec(value):
    "A Decimal as a plain decimal string"
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    # str() is the plain notation unless it has an exponent, and much
    # faster than format() (a bootstrap formats a million prices)
    text = str(value)
    if 'E' in text:
        text = format(value, 'f')
    if '.' in text:
        text = text.rstrip('0').rstrip('.') if 'E' not in text else text
    return text or '0'


def money(value):
    "An amount as a decimal string with its digits"
    if value is None:
        return None
    return format(Decimal(value), 'f')


def to_decimal(value, name):
    "A pushed decimal string as a Decimal; Rejected for anything else"
    if isinstance(value, float) or isinstance(value, bool):
        raise Rejected('invalid_payload',
            f"{name} must be a decimal string, not a binary float.")
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise Rejected('invalid_payload',
            f"{name} is not a decimal: {value!r}")


def to_int(value, name, required=True):
    "A pushed integer; None when not required and absent"
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected('invalid_payload', f"{name} must be an integer.")
    return value


def parse_time(value):
    "The client time: ISO 8601 with an offset, within the protocol's window"
    try:
        return schema.parse_time(value)
    except schema.Invalid as e:
        raise Rejected('invalid_payload', e.message)


def utc(client_time):
    "An aware time as a naive UTC timestamp, as Tryton stores them"
    return client_time.astimezone(dt.timezone.utc).replace(tzinfo=None)


class TerminalContext:
    """The terminal a request serves, its branch and company, and the
    locations of the branch's warehouse (read once): what a pull's Scope and
    a push's Batch share"""

    def __init__(self, terminal):
        self.terminal = terminal
        self.branch = terminal.branch
        self.company = terminal.company
        self._locations = None

    @property
    def locations(self):
        if self._locations is None:
            self._locations = branch_locations(self.branch)
        return self._locations
