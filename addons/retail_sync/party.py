# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import Unique, fields
from trytond.pool import PoolMeta


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
