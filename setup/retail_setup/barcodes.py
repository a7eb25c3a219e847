"""EAN-13 helpers for the demo and scale data."""


def ean13_check_digit(first12):
    "The check digit of the 12 first digits of an EAN-13"
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"{first12!r} is not 12 digits")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13(first12):
    return first12 + ean13_check_digit(first12)


def is_valid_ean13(code):
    return (len(code) == 13 and code.isdigit()
        and ean13_check_digit(code[:12]) == code[12])
