# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""What the sync API accepts: bodies, requests and operations.

One place for every bound the protocol states (docs/sync-protocol.md
§ Limits, docs/sync-openapi.yaml): the schemas are JSON Schema (the
OpenAPI 3.0 subset) written as Python dicts, so that the test suite checks
that the OpenAPI document holds exactly these, and one validator walks
them.  A value that does not fit raises Invalid with the field's path."""
import datetime as dt
import json
import re
import zlib
from decimal import Decimal

# Integers: server ids, receipt numbers, sequences and counts are stored in
# 32-bit columns (PostgreSQL "integer"), so they are bounded by that
INT_MAX = 2 ** 31 - 1
# Bodies: the bytes received and, for a compressed body, the bytes it
# inflates to; checked before the body is parsed and before the device key
MAX_PUSH_BYTES = 32 * 1024 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_OPERATIONS = 500
MAX_LINES = 1000
MAX_PAYMENTS = 100
MAX_LOTS = 100
MAX_DENOMINATIONS = 100
# Client times: ISO 8601 with an offset, within this window
TIME_MIN = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
TIME_AHEAD = dt.timedelta(days=7)
MAX_OFFSET = dt.timedelta(hours=14)

TIME_PATTERN = (r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}'
    r'(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$')
# Printable ASCII without space: UUIDs, receipt numbers, versions
TOKEN_PATTERN = r'^[!-~]+$'
# Text without control characters but tab and line breaks
TEXT_PATTERN = r'^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$'
# One line of text: no control character at all (what a Tryton Char field
# stores without refusing it)
LINE_PATTERN = r'^[^\x00-\x1f\x7f]*$'


def decimal(integers, decimals, signed=True, description=None):
    "A decimal string of at most integers digits before the point"
    schema = {
        'type': 'string',
        'pattern': (f'^{"-?" if signed else ""}[0-9]{{1,{integers}}}'
            f'(\\.[0-9]{{1,{decimals}}})?$'),
        }
    if description:
        schema['description'] = description
    return schema


def integer(minimum=1, nullable=False):
    schema = {'type': 'integer', 'minimum': minimum, 'maximum': INT_MAX}
    if nullable:
        schema['nullable'] = True
    return schema


def string(max_length, pattern=TEXT_PATTERN, nullable=False):
    schema = {'type': 'string', 'maxLength': max_length, 'pattern': pattern}
    if nullable:
        schema['nullable'] = True
    return schema


def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


SCHEMAS = {
    'Id': integer(),
    'NullableId': integer(nullable=True),
    'Uuid': dict(string(64, TOKEN_PATTERN), minLength=1),
    'ClientTime': {
        'type': 'string', 'maxLength': 40, 'pattern': TIME_PATTERN,
        'description': (
            "ISO 8601 with an offset between -14:00 and +14:00, from "
            "2000-01-01T00:00:00Z to 7 days after the server's time."),
        },
    'Quantity': decimal(6, 3, description=(
            "A decimal string: at most 6 digits before the point and 3 "
            "after (-999999.999 to 999999.999).")),
    'Price': decimal(9, 4, description=(
            "A decimal string: at most 9 digits before the point and 4 "
            "after.")),
    'Amount': dict(decimal(9, 4), **{
            'x-currency': True,
            'description': (
                "A decimal string: at most 9 digits before the point and "
                "no more decimals than the company's currency (2 for "
                "EUR)."),
            }),
    'PositiveAmount': dict(decimal(9, 4, signed=False), **{
            'x-currency': True, 'x-positive': True,
            'description': (
                "A decimal string greater than zero: at most 9 digits "
                "before the point and no more decimals than the company's "
                "currency."),
            }),
    'CountedAmount': dict(decimal(9, 4, signed=False), **{
            'x-currency': True,
            'description': (
                "A decimal string, zero or more: at most 9 digits before "
                "the point and no more decimals than the company's "
                "currency."),
            }),
    'CountedQuantity': decimal(6, 3, signed=False, description=(
            "A decimal string, zero or more: at most 6 digits before the "
            "point and 3 after.")),
    'SessionUuid': dict(string(64, TOKEN_PATTERN), minLength=1),
    }
SCHEMAS['Discount'] = {
    'type': 'object', 'nullable': True,
    'properties': {
        'type': {'type': 'string', 'enum': ['percent', 'amount']},
        'value': ref('Price'),
        },
    }
SCHEMAS['SalePayload'] = {
    'type': 'object',
    'required': ['receipt_number', 'lines', 'payments'],
    'properties': {
        'receipt_number': ref('Id'),
        'session': ref('SessionUuid'),
        'original_receipt': string(64, TOKEN_PATTERN, nullable=True),
        'customer': ref('NullableId'),
        'customer_uuid': string(64, TOKEN_PATTERN, nullable=True),
        'total': ref('Amount'),
        'lines': {
            'type': 'array', 'minItems': 1, 'maxItems': MAX_LINES,
            'items': {
                'type': 'object',
                'required': ['product', 'quantity', 'price'],
                'properties': {
                    'product': ref('Id'),
                    'quantity': ref('Quantity'),
                    'unit_price': ref('Price'),
                    'price': ref('Price'),
                    'discount': ref('Discount'),
                    'lot': ref('NullableId'),
                    'lots': {
                        'type': 'array', 'minItems': 1, 'maxItems': MAX_LOTS,
                        'description': (
                            "A line split over several lots (first "
                            "expiring first out); the quantities add up to "
                            "the line's quantity."),
                        'items': {
                            'type': 'object',
                            'required': ['lot', 'quantity'],
                            'properties': {
                                'lot': ref('Id'),
                                'quantity': ref('Quantity'),
                                },
                            },
                        },
                    },
                },
            },
        'payments': {
            'type': 'array', 'maxItems': MAX_PAYMENTS,
            'description': (
                "A return's negative payments of a non-cash method follow "
                "the branch's refund_to and never exceed what the original "
                "sale was paid with by that method (rejected refund_method "
                "or refund_exceeds_payment)."),
            'items': {
                'type': 'object',
                'required': ['method', 'amount'],
                'properties': {
                    'method': ref('Id'),
                    'amount': ref('Amount'),
                    },
                },
            },
        },
    }
SCHEMAS['VoidPayload'] = {
    'type': 'object',
    'required': ['receipt_number'],
    'properties': {
        'receipt_number': ref('Id'),
        'reason': string(1024, nullable=True),
        },
    }
SCHEMAS['CashPayload'] = {
    'type': 'object',
    'required': ['amount', 'transfer_type'],
    'properties': {
        'amount': ref('PositiveAmount'),
        'transfer_type': ref('Id'),
        'note': string(1024, nullable=True),
        'session': ref('SessionUuid'),
        },
    }
SCHEMAS['SessionOpenPayload'] = {
    'type': 'object',
    'properties': {
        'session': ref('SessionUuid'),
        'opening_amount': ref('CountedAmount'),
        },
    }
SCHEMAS['SessionClosePayload'] = {
    'type': 'object',
    'required': ['counted_cash'],
    'properties': {
        'session': ref('SessionUuid'),
        'counted_cash': ref('CountedAmount'),
        'denominations': {
            'type': 'array', 'maxItems': MAX_DENOMINATIONS,
            'description': (
                "The counted cash by denomination: each coin "
                "or note value counted and how many; optional, kept for "
                "the Z report."),
            'items': {
                'type': 'object',
                'additionalProperties': False,
                'required': ['value', 'count'],
                'properties': {
                    'value': ref('PositiveAmount'),
                    'count': integer(minimum=0),
                    },
                },
            },
        },
    }
SCHEMAS['CustomerPayload'] = {
    'type': 'object',
    'required': ['fields'],
    'properties': {
        'customer': ref('NullableId'),
        'customer_uuid': string(64, TOKEN_PATTERN, nullable=True),
        'base_version': integer(minimum=0),
        'fields': {
            'type': 'object',
            'additionalProperties': False,
            'properties': {
                'name': string(256, LINE_PATTERN),
                'email': string(256, LINE_PATTERN, nullable=True),
                'phone': string(64, LINE_PATTERN, nullable=True),
                },
            },
        },
    }
SCHEMAS['StockCountPayload'] = {
    'type': 'object',
    'required': ['lines'],
    'properties': {
        'lines': {
            'type': 'array', 'minItems': 1, 'maxItems': MAX_LINES,
            'items': {
                'type': 'object',
                'required': ['product', 'quantity'],
                'properties': {
                    'product': ref('Id'),
                    'lot': ref('NullableId'),
                    'quantity': ref('CountedQuantity'),
                    },
                },
            },
        },
    }
SCHEMAS['AuditPayload'] = {
    'type': 'object',
    'description': (
        "A manager override approved by PIN at the till (added in 1.2). The "
        "manager needs allow_manager_override, plus allow_price_override, "
        "allow_void or allow_refund for those actions, and a max_discount "
        "not below detail.discount for discounts; else rejected "
        "not_allowed. The PIN actions (docs/security.md): pin_failed and "
        "pin_locked (a wrong PIN, a lockout of cashier; manager must be "
        "null, else invalid_payload) and pin_unlocked (manager, who needs "
        "allow_manager_override, lifted the lockout of cashier)."),
    'required': ['action', 'manager'],
    'properties': {
        'action': dict(string(32, TOKEN_PATTERN), description=(
                "discount, order_discount, price_override, expired_lot, "
                "void_line, void_sale, refund, pin_failed, pin_locked or "
                "pin_unlocked; another value is rejected unknown_action.")),
        'manager': dict(ref('NullableId'), description=(
                "null for pin_failed and pin_locked only.")),
        'cashier': ref('NullableId'),
        'receipt': string(64, TOKEN_PATTERN, nullable=True),
        'product': ref('NullableId'),
        'lot': ref('NullableId'),
        'detail': {'type': 'object', 'nullable': True,
            'additionalProperties': True},
        },
    }
SCHEMAS['OperationBase'] = {
    'type': 'object',
    'required': ['uuid', 'type', 'terminal', 'sequence', 'client_time',
        'payload'],
    'properties': {
        'uuid': ref('Uuid'),
        'type': {'type': 'string'},
        'terminal': ref('Id'),
        'sequence': ref('Id'),
        'client_time': ref('ClientTime'),
        'employee': ref('NullableId'),
        'payload': {'type': 'object'},
        'journal': {
            'type': 'object',
            'description': (
                "The receipt journal's link of a sale, return, void or "
                "session_close (docs/journal.md): previous and hash, each "
                "64 lowercase hexadecimal digits. Optional; a wrong hash "
                "or link does not reject the operation, it breaks the "
                "terminal's chain (journal_state broken)."),
            'properties': {
                'previous': {'type': 'string'},
                'hash': {'type': 'string'},
                },
            },
        },
    }
# What a push names besides its operations; the operations are checked
# one by one (a bad one is rejected, the others applied)
SCHEMAS['DeviceStatus'] = {
    'type': 'object',
    'properties': {
        'app_version': string(64, TOKEN_PATTERN),
        'pending_operations': integer(minimum=0),
        'cursor': string(128, TOKEN_PATTERN),
        },
    }
SCHEMAS['PushBody'] = {
    'type': 'object',
    'required': ['operations'],
    'properties': {
        'terminal': ref('Id'),
        'app_version': string(64, TOKEN_PATTERN),
        'pending_operations': integer(minimum=0),
        'cursor': string(128, TOKEN_PATTERN),
        'operations': {
            'type': 'array', 'maxItems': MAX_OPERATIONS,
            'items': {
                'type': 'object',
                'required': ['uuid', 'terminal'],
                'properties': {
                    'uuid': ref('Uuid'),
                    },
                },
            },
        },
    }
SCHEMAS['EnrollBody'] = {
    'type': 'object',
    'required': ['code'],
    'properties': {
        'code': string(32, TOKEN_PATTERN),
        'app_version': string(64, TOKEN_PATTERN),
        'device_name': string(128, LINE_PATTERN),
        'pending_operations': integer(minimum=0),
        'cursor': string(128, TOKEN_PATTERN),
        },
    }


class Invalid(ValueError):
    "A value that does not fit its schema: field is its path"

    def __init__(self, field, message):
        self.field = field
        self.message = f"{field}: {message}" if field else message
        super().__init__(self.message)


class BodyError(Exception):
    "A request body refused before it is read as JSON"

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_patterns = {}


def _match(pattern, value):
    regex = _patterns.get(pattern)
    if regex is None:
        # JSON Schema patterns are ECMA-262: "$" is the very end
        regex = _patterns[pattern] = re.compile(
            pattern.removesuffix('$') + r'\Z' if pattern.endswith('$')
            else pattern)
    return regex.search(value) is not None


def _join(path, name):
    if isinstance(name, int):
        return f'{path}[{name}]'
    return f'{path}.{name}' if path else name


def validate(value, schema, path='', context=None):
    """Check value against schema (a dict or a name of SCHEMAS); raise
    Invalid naming the first field that does not fit"""
    _validator(schema)(value, path, context)


# {name or id of a schema dict: (schema, check)}: each schema turned once
# into a function (_compile) that makes the checks validate describes
_validators = {}
# The most schemas kept turned (callers give names or lasting dicts)
VALIDATORS_LIMIT = 10_000


def _validator(schema):
    "The check of schema (a dict or a name of SCHEMAS)"
    if isinstance(schema, str):
        key, schema = schema, SCHEMAS[schema]
    else:
        key = id(schema)
    entry = _validators.get(key)
    # The dict itself is kept with its check: its id is not reused
    if entry is None or entry[0] is not schema:
        if len(_validators) > VALIDATORS_LIMIT:
            _validators.clear()
        entry = _validators[key] = (schema, _compile(schema))
    return entry[1]


def _compile(schema):
    """A function (value, path, context) that checks value against schema
    as validate does, in the same order, with the same messages"""
    if '$ref' in schema:
        name = schema['$ref'].rsplit('/', 1)[1]
        if len(schema) == 1:
            # A plain reference: the schema it names, when checked
            return lambda value, path, context: _validator(name)(
                value, path, context)
        extra = {k: v for k, v in schema.items() if k != '$ref'}
        return _compile(dict(SCHEMAS[name], **extra))
    nullable = schema.get('nullable')
    kind = schema.get('type')
    if kind == 'integer':
        def check(value, path, context):
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid(path, "must be an integer.")
            if not schema['minimum'] <= value <= schema['maximum']:
                raise Invalid(path, f"must be from {schema['minimum']} to "
                    f"{schema['maximum']}.")
    elif kind == 'string':
        max_length = schema.get('maxLength')
        min_length = schema.get('minLength', 0)
        enum = schema.get('enum')
        pattern = schema.get('pattern')
        positive = schema.get('x-positive')
        currency = schema.get('x-currency')
        time = schema is SCHEMAS['ClientTime'] or pattern == TIME_PATTERN

        def check(value, path, context):
            if not isinstance(value, str):
                raise Invalid(path, "must be a string.")
            if max_length is not None and len(value) > max_length:
                raise Invalid(path,
                    f"must be at most {max_length} characters.")
            if len(value) < min_length:
                raise Invalid(path, "must not be empty.")
            if enum is not None and value not in enum:
                raise Invalid(path, f"must be one of {', '.join(enum)}.")
            if pattern is not None and not _match(pattern, value):
                raise Invalid(path, schema.get('description')
                    or f"does not match {pattern}.")
            if positive and not Decimal(value):
                raise Invalid(path, "must be greater than zero.")
            if currency and context:
                digits = context.get('currency_digits')
                if digits is not None:
                    _, _, decimals = value.partition('.')
                    if len(decimals) > digits:
                        raise Invalid(path, f"has more than the currency's "
                            f"{digits} decimals.")
            if time:
                parse_time(value, path)
    elif kind == 'array':
        min_items = schema.get('minItems', 0)
        max_items = schema.get('maxItems')

        def check(value, path, context):
            if not isinstance(value, list):
                raise Invalid(path, "must be a list.")
            if len(value) < min_items:
                raise Invalid(path,
                    f"needs at least {schema['minItems']} item(s).")
            if max_items is not None and len(value) > max_items:
                raise Invalid(path,
                    f"must have at most {max_items} items.")
            if value:
                item = _validator(schema['items'])
                for i, element in enumerate(value):
                    item(element, _join(path, i), context)
    elif kind == 'object':
        required = schema.get('required', [])
        properties = schema.get('properties', {})
        closed = schema.get('additionalProperties') is False
        checks = [(name, _validator(sub)) for name, sub in properties.items()]

        def check(value, path, context):
            if not isinstance(value, dict):
                raise Invalid(path, "must be an object.")
            for name in required:
                if name not in value:
                    raise Invalid(_join(path, name), "is required.")
            if closed:
                unknown = sorted(set(value) - set(properties))
                if unknown:
                    raise Invalid(
                        _join(path, unknown[0]), "is not a known field.")
            for name, sub in checks:
                if name in value:
                    sub(value[name], _join(path, name), context)
    else:
        def check(value, path, context):
            pass

    def checked(value, path, context):
        if value is None:
            if nullable:
                return
            raise Invalid(path, "must not be null.")
        check(value, path, context)
    return checked


def parse_time(value, field='client_time', now=None):
    """The aware datetime of an ISO 8601 string with an offset within the
    window; raise Invalid otherwise"""
    if not isinstance(value, str) or not _match(TIME_PATTERN, value):
        raise Invalid(field, "must be an ISO 8601 time with an offset, "
            "as 2025-11-21T10:15:00+01:00.")
    try:
        time = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(field, f"{value!r} is not a valid time.")
    offset = time.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise Invalid(field, "the offset must be from -14:00 to +14:00.")
    if not TIME_MIN.year <= time.year <= 9000:
        raise Invalid(field, "must be after 2000-01-01T00:00:00Z.")
    now = now or dt.datetime.now(dt.timezone.utc)
    if time < TIME_MIN:
        raise Invalid(field, "must be after 2000-01-01T00:00:00Z.")
    if time > now + TIME_AHEAD:
        raise Invalid(field,
            "must be at most 7 days after the server's time.")
    return time


def valid_int(value, minimum=1):
    "value if it is an integer within the bounds, else None"
    if (isinstance(value, int) and not isinstance(value, bool)
            and minimum <= value <= INT_MAX):
        return value
    return None


# Bodies

def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def inflate(data, encoding, limit):
    """The bytes of data decoded from encoding (gzip, deflate or
    identity), at most limit bytes: inflating stops there"""
    encoding = (encoding or 'identity').strip().lower()
    if encoding == 'identity':
        return data
    if encoding in {'gzip', 'x-gzip'}:
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == 'deflate':
        # zlib-wrapped deflate (RFC 9110); a raw deflate stream is tried too
        wbits = zlib.MAX_WBITS if data[:1] and (
            data[0] & 0x0f) == 8 else -zlib.MAX_WBITS
    else:
        raise BodyError(415, 'unsupported_media_type',
            f"Content-Encoding {encoding!r} is not supported: send gzip, "
            "deflate or no encoding.")
    chunks, size = [], 0
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits)
            while rest:
                chunk = inflater.decompress(rest, limit - size + 1)
                size += len(chunk)
                chunks.append(chunk)
                if size > limit:
                    raise BodyError(413, 'too_large',
                        f"The body inflates to more than {limit} bytes.")
                rest = inflater.unconsumed_tail
            if not inflater.eof:
                raise BodyError(400, 'bad_request',
                    f"The body is truncated {encoding} data.")
            # gzip allows several members one after the other
            rest = inflater.unused_data if wbits > 16 else b''
            if inflater.unused_data and wbits <= 16:
                raise BodyError(400, 'bad_request',
                    f"Data after the end of the {encoding} stream.")
    except zlib.error:
        raise BodyError(400, 'bad_request',
            f"The body is not valid {encoding} data.")
    return b''.join(chunks)


def loads(data, max_depth=MAX_DEPTH):
    """Parse JSON strictly: UTF-8, no NaN or Infinity, no duplicate key, no
    lone surrogate, at most max_depth nested arrays and objects; raise
    BodyError (400) otherwise"""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise BodyError(400, 'bad_request', "The body is not UTF-8.")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys,
            parse_constant=_no_constant)
    except RecursionError:
        raise BodyError(400, 'bad_request',
            f"The body nests more than {max_depth} levels.")
    except ValueError as e:
        raise BodyError(400, 'bad_request', f"The body is not valid JSON: {e}")
    # Iteratively: depth and strings
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise BodyError(400, 'bad_request',
                    f"The body nests more than {max_depth} levels.")
            if isinstance(item, dict):
                for key, sub in item.items():
                    stack.append((key, depth))
                    stack.append((sub, depth + 1))
            else:
                stack.extend((sub, depth + 1) for sub in item)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode('utf-8')
            except UnicodeEncodeError:
                raise BodyError(400, 'bad_request',
                    "The body holds a lone surrogate (\\ud800-\\udfff).")
    return value
