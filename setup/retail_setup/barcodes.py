"""EAN-13 helpers for the demo and scale data (check digits by
python-stdnum)."""
from stdnum import ean


def ean13_check_digit(first12):
    "The check digit of the 12 first digits of an EAN-13"
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"{first12!r} is not 12 digits")
    return ean.calc_check_digit(first12)


def ean13(first12):
    return first12 + ean13_check_digit(first12)


def is_valid_ean13(code):
    return len(code) == 13 and ean.is_valid(code)


def in_store_code(prefix, item_digits, item):
    """The EAN-13 an in-store layout files an item under: the prefix, the
    item code (zero-padded to item_digits), the value digits zeroed, and
    the check digit (what a till looks a scale label up by)"""
    body = f'{prefix}{int(item):0{item_digits}d}'.ljust(12, '0')
    return ean13(body)
