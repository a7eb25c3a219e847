# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import json

from trytond.model import Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .push import OperationHandler
from .serialise import ser_customer
from .wire import Rejected, to_int, utc


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    retail_uuid = fields.Char(
        "Terminal UUID", readonly=True,
        help="The id the terminal gave the customer it created.")
    retail_version = fields.Integer(
        "Sync Version", readonly=True,
        help="Increases with each change merged from a terminal.")
    retail_field_times = fields.Text(
        "Field Times", readonly=True,
        help="When each field was last written by a terminal (JSON).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('retail_uuid_unique', Unique(t, t.retail_uuid),
                'retail_sync.msg_party_uuid_unique'),
            ]

    @classmethod
    def default_retail_version(cls):
        return 0

    @classmethod
    def copy(cls, parties, default=None):
        default = dict(default or {})
        default.setdefault('retail_uuid')
        default.setdefault('retail_field_times')
        return super().copy(parties, default=default)


class CustomerHandler(OperationHandler):
    """A customer created or changed at a till: merged field by field, the
    latest client time of each field winning"""
    string = 'retail_sync.msg_operation_type_customer'
    payload_schema = 'CustomerPayload'

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        pool = Pool()
        Party = pool.get('party.party')
        Mechanism = pool.get('party.contact_mechanism')
        fields_ = payload.get('fields')
        if not isinstance(fields_, dict):
            raise Rejected('invalid_payload', "fields must be an object.")
        allowed = {'name', 'email', 'phone'}
        if set(fields_) - allowed:
            raise Rejected('invalid_payload',
                f"Unknown fields: {sorted(set(fields_) - allowed)}")
        party = None
        with Transaction().set_context(active_test=False):
            if payload.get('customer') is not None:
                parties = Party.search(
                    [('id', '=', to_int(payload['customer'], 'customer'))])
                if not parties:
                    raise Rejected('unknown_customer',
                        f"Customer {payload['customer']} does not exist.")
                party, = parties
            elif payload.get('customer_uuid'):
                parties = Party.search(
                    [('retail_uuid', '=', str(payload['customer_uuid']))])
                if parties:
                    party, = parties
        stamp = utc(client_time).isoformat()
        if party is None:
            if not fields_.get('name'):
                raise Rejected('invalid_payload', "A customer needs a name.")
            party = Party(name=fields_['name'],
                retail_uuid=payload.get('customer_uuid'), retail_version=0,
                retail_field_times='{}')
            party.save()
        times = json.loads(party.retail_field_times or '{}')
        applied, ignored = [], []
        for name, value in sorted(fields_.items()):
            if times.get(name) and times[name] > stamp:
                ignored.append(name)
                continue
            times[name] = stamp
            applied.append(name)
            if name == 'name':
                party.name = value
            else:
                types = ['email'] if name == 'email' else ['phone', 'mobile']
                mechanisms = [m for m in party.contact_mechanisms
                    if m.type in types]
                if mechanisms:
                    if value:
                        Mechanism.write(mechanisms[:1], {'value': value})
                    else:
                        Mechanism.delete(mechanisms[:1])
                elif value:
                    Mechanism.create([{'party': party.id,
                                'type': types[0], 'value': value}])
        party.retail_field_times = json.dumps(times, sort_keys=True)
        party.retail_version = (party.retail_version or 0) + 1
        party.save()
        record = ser_customer([party.id], None)[party.id]
        return {'customer': party.id, 'version': party.retail_version,
            'data': record, 'ignored_fields': ignored}


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers['customer'] = CustomerHandler
        return handlers
