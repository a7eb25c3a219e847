# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Device enrollment and keys"
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import secrets

from sql.aggregate import Count, Min

from trytond import config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import EnrollmentError

ENROLLMENT_TTL = config.getint('retail_sync', 'enrollment_ttl', default=900)
# Failed enrollment attempts allowed in the window, per client address and
# per database, before attempts are refused (429) until the window passes
ENROLL_WINDOW = config.getint(
    'retail_sync', 'enroll_throttle_window', default=900)
ENROLL_MAX_ADDRESS = config.getint(
    'retail_sync', 'enroll_max_failures_per_address', default=10)
ENROLL_MAX_DATABASE = config.getint(
    'retail_sync', 'enroll_max_failures_per_database', default=100)
logger = logging.getLogger(__name__)
# Unambiguous letters and digits (no 0/O, 1/I/L)
CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'


def digest(secret):
    "SHA-256 of a high-entropy secret (codes and keys are random, not chosen)"
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def new_code():
    raw = ''.join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f'{raw[:4]}-{raw[4:]}'


def normalize_code(code):
    code = ''.join(c for c in (code or '').upper() if c.isalnum())
    return f'{code[:4]}-{code[4:]}'


def qr_svg(text):
    "Return the QR code of text as SVG bytes"
    import qrcode
    import qrcode.image.svg
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    output = io.BytesIO()
    image.save(output)
    return output.getvalue()


class Device(ModelSQL, ModelView):
    """Sync Device: the enrollment and key of a terminal, or of a device of
    another kind (a module adds its kind to the selection of kind; such a
    device belongs to a branch and uses the endpoints of its kind only)"""
    __name__ = 'retail.sync.device'

    kind = fields.Selection([
            ('till', "Till"),
            ], "Kind", required=True, readonly=True,
        help="What the device is: a till of a terminal, or another kind "
        "of device of a branch.")
    terminal = fields.Many2One(
        'sale.point', "Terminal", ondelete='CASCADE', readonly=True,
        states={
            'required': Eval('kind') == 'till',
            'invisible': Eval('kind') != 'till',
            })
    device_branch = fields.Many2One(
        'retail.branch', "Branch", ondelete='CASCADE',
        states={
            'required': Eval('kind') != 'till',
            'invisible': Eval('kind') == 'till',
            'readonly': Eval('state') != 'pending',
            },
        help="The branch a device other than a till works for.")
    branch = fields.Function(
        fields.Many2One('retail.branch', "Branch"), 'get_branch',
        searcher='search_branch')
    state = fields.Selection([
            ('pending', "Waiting for Enrollment"),
            ('active', "Active"),
            ('revoked', "Revoked"),
            ], "State", readonly=True, required=True)
    code_hash = fields.Char("Code Hash", readonly=True)
    code_expires = fields.Timestamp("Code Expires", readonly=True)
    key_hash = fields.Char("Key Hash", readonly=True)
    key_hint = fields.Char(
        "Key Hint", readonly=True,
        help="The first characters of the key, to recognise it.")
    enrolled_at = fields.Timestamp("Enrolled At", readonly=True)
    revoked_at = fields.Timestamp("Revoked At", readonly=True)
    device_name = fields.Char("Device Name", states={
            'readonly': Eval('kind') == 'till',
            })
    # What the device reported with its key (the terminal keeps one active
    # key, so these are the terminal's figures while the key is active)
    last_seen = fields.Function(
        fields.Timestamp("Last Seen"), 'get_status')
    app_version = fields.Function(
        fields.Char("App Version"), 'get_status')
    pending_operations = fields.Function(
        fields.Integer("Pending Operations",
            help="Operations waiting on the device, as it last reported."),
        'get_status')
    cursor = fields.Function(
        fields.Char("Sync Cursor"), 'get_status')
    pending_code_expires = fields.Function(
        fields.Timestamp("Code Expires",
            help="When the code waiting for enrollment expires."),
        'get_pending_code_expires')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.key_hash, Index.Equality())),
                Index(t, (t.code_hash, Index.Equality())),
                })
        cls._order.insert(0, ('id', 'DESC'))
        cls._buttons.update({
                'revoke_device': {
                    'invisible': ~Eval('state').in_(['pending', 'active']),
                    'depends': ['state'],
                    },
                'device_code': {
                    'invisible': ((Eval('kind') == 'till')
                        | (Eval('id', -1) < 0)),
                    'depends': ['kind', 'id'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_kind(cls):
        return Transaction().context.get('device_kind', 'till')

    def get_branch(self, name):
        if self.kind != 'till':
            return self.device_branch.id if self.device_branch else None
        return self.terminal.branch.id if self.terminal.branch else None

    @classmethod
    def search_branch(cls, name, clause):
        _, operator, *values = clause
        return ['OR',
            ('device_branch',) + tuple(clause[1:]),
            ('terminal.branch',) + tuple(clause[1:]),
            ]

    def get_status(self, name):
        if self.state != 'active' or self.kind != 'till':
            return None
        return getattr(self.terminal, 'device_' + name)

    @classmethod
    def validate_fields(cls, devices, field_names):
        super().validate_fields(devices, field_names)
        for device in devices:
            if device.kind == 'till' and not device.terminal:
                raise EnrollmentError(gettext(
                        'retail_sync.msg_device_till_terminal'))
            if device.kind != 'till' and not device.device_branch:
                raise EnrollmentError(gettext(
                        'retail_sync.msg_device_kind_branch'))

    @classmethod
    def check_modification(cls, mode, devices, values=None, external=False):
        super().check_modification(
            mode, devices, values=values, external=external)
        # From the back office a manager creates and names the devices of
        # other kinds; keys, codes and states change through the buttons
        if external and mode in {'create', 'write'} and values and (
                values.keys() - {'kind', 'device_name', 'device_branch'}):
            raise AccessError(gettext('retail_sync.msg_device_readonly'))
        if external and mode in {'create', 'write'} and (
                values or {}).get('kind') == 'till':
            raise AccessError(gettext('retail_sync.msg_device_readonly'))

    def enrollment_answer(self):
        """What the enroll endpoint answers, beside the key, to a device
        that is not a till (a module extends it for its kind)"""
        branch = self.device_branch
        return {
            'kind': self.kind,
            'device': self.id,
            'branch': {'id': branch.id, 'code': branch.code,
                'name': branch.name},
            }

    @classmethod
    def new_device_code(cls, device):
        """A new enrollment code for device, not a till; return the code.
        The device's key, if any, stays valid until the code is used."""
        if device.kind == 'till':
            return cls.new_enrollment(device.terminal)[1]
        code = new_code()
        values = {'code_hash': digest(code),
            'code_expires': dt.datetime.now()
            + dt.timedelta(seconds=ENROLLMENT_TTL)}
        if device.state == 'revoked':
            values.update(state='pending', revoked_at=None)
        cls.write([device], values)
        return code

    def get_pending_code_expires(self, name):
        return self.code_expires if self.state == 'pending' else None

    @classmethod
    @ModelView.button_action('retail_sync.wizard_device_enroll')
    def device_code(cls, devices):
        pass

    @classmethod
    @ModelView.button
    def revoke_device(cls, devices):
        "Revoke the key (or the unused code) of each device"
        Terminal = Pool().get('sale.point')
        devices = [d for d in devices if d.state in {'pending', 'active'}]
        terminals = {d.terminal for d in devices
            if d.state == 'active' and d.kind == 'till'}
        cls.write(devices, {
                'state': 'revoked', 'code_hash': None,
                'revoked_at': dt.datetime.now()})
        if terminals:
            Terminal.write(list(terminals), {'device_state': 'revoked'})

    @classmethod
    def new_enrollment(cls, terminal):
        """Create a pending enrollment of terminal; return (device, code).
        The new code supersedes the unused codes of the terminal."""
        if not terminal.branch:
            # A point of sale without a branch is a plain sale_point one
            raise EnrollmentError(gettext(
                    'retail_sync.msg_enroll_no_branch',
                    terminal=terminal.rec_name))
        older = cls.search([
                ('terminal', '=', terminal.id),
                ('state', '=', 'pending'),
                ])
        if older:
            cls.write(older, {'state': 'revoked', 'code_hash': None,
                    'revoked_at': dt.datetime.now()})
        code = new_code()
        device = cls(
            terminal=terminal, state='pending', code_hash=digest(code),
            code_expires=dt.datetime.now()
            + dt.timedelta(seconds=ENROLLMENT_TTL))
        device.save()
        # The till bootstraps minutes later: its branch's pages are made
        # ahead meanwhile by a queue worker; without one, the code is
        # answered at once and the cron (warm_stale) or the till makes them
        if config.getboolean('queue', 'worker', default=False):
            Pool().get('retail.sync.bootstrap.page').queue_warm([terminal])
        return device, code

    @classmethod
    def enroll(cls, code, device_name=None):
        """Exchange a one-time code for a key; return (device, key) or
        (None, None)"""
        devices = cls.search([
                ('code_hash', '=', digest(normalize_code(code))),
                ('state', 'in', ['pending', 'active']),
                ], limit=1)
        if not devices:
            return None, None
        device, = devices
        if device.code_expires < dt.datetime.now():
            cls.write([device], {'code_hash': None})
            return None, None
        if device.kind != 'till':
            # One key per device: a new enrollment replaces its key
            key = f'rsk_d{device.id}_{secrets.token_urlsafe(32)}'
            cls.write([device], {
                    'state': 'active',
                    'code_hash': None,
                    'key_hash': digest(key),
                    'key_hint': key[:10],
                    'enrolled_at': dt.datetime.now(),
                    'revoked_at': None,
                    'device_name': device_name or device.device_name,
                    })
            return device, key
        terminal = device.terminal
        # One active key per terminal: a new enrollment replaces the old one
        others = cls.search([
                ('terminal', '=', terminal.id),
                ('state', '=', 'active'),
                ])
        now = dt.datetime.now()
        if others:
            cls.write(others, {'state': 'revoked', 'revoked_at': now})
        key = f'rsk_{terminal.id}_{secrets.token_urlsafe(32)}'
        cls.write([device], {
                'state': 'active',
                'code_hash': None,
                'key_hash': digest(key),
                'key_hint': key[:10],
                'enrolled_at': now,
                'device_name': device_name,
                })
        Terminal = Pool().get('sale.point')
        Terminal.write([terminal], {'device_state': 'enrolled'})
        return device, key

    @classmethod
    def authenticate(cls, key):
        "Return the active device of key or None"
        if not key or not key.startswith('rsk_'):
            return None
        devices = cls.search([
                ('key_hash', '=', digest(key)),
                ], limit=1)
        if not devices:
            return None
        device, = devices
        if device.state != 'active' or not hmac.compare_digest(
                device.key_hash, digest(key)):
            return None
        return device

    @classmethod
    def revoke(cls, terminals):
        devices = cls.search([
                ('terminal', 'in', [t.id for t in terminals]),
                ('state', 'in', ['active', 'pending']),
                ])
        cls.write(devices, {
                'state': 'revoked', 'code_hash': None,
                'revoked_at': dt.datetime.now()})


class Terminal(metaclass=PoolMeta):
    __name__ = 'sale.point'

    sync_devices = fields.One2Many(
        'retail.sync.device', 'terminal', "Devices", readonly=True)
    receipt_report = fields.Function(
        fields.Text("Receipt Numbers"), 'get_receipt_report')
    sync_sequence = fields.Integer(
        "Last Operation Sequence", readonly=True,
        help="The highest operation sequence number received.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'sync_enroll': {
                    'invisible': ~Eval('id', -1) | (Eval('id', -1) < 0),
                    'depends': ['id'],
                    },
                'sync_revoke': {
                    'invisible': Eval('device_state') != 'enrolled',
                    'depends': ['device_state'],
                    },
                })

    @classmethod
    def default_sync_sequence(cls):
        return 0

    @classmethod
    @ModelView.button_action('retail_sync.wizard_enroll')
    def sync_enroll(cls, terminals):
        pass

    @classmethod
    @ModelView.button
    def sync_revoke(cls, terminals):
        Device = Pool().get('retail.sync.device')
        Device.revoke(terminals)
        cls.write(list(terminals), {'device_state': 'revoked'})

    @classmethod
    def retail_sync_warm(cls, terminals):
        """The task of the queue retail_sync_warm: make ahead the kept
        bootstrap pages of the branch of each terminal"""
        BootstrapPage = Pool().get('retail.sync.bootstrap.page')
        for terminal in terminals:
            BootstrapPage.warm(terminal)

    def get_receipt_report(self, name):
        Operation = Pool().get('retail.sync.operation')
        report = Operation.receipt_report(self)
        lines = []
        if report['first'] is None:
            return gettext('retail_sync.msg_receipts_none')
        lines.append(gettext('retail_sync.msg_receipts_range',
                first=report['first'], last=report['last'],
                count=report['count']))
        if report['gaps']:
            lines.append(gettext('retail_sync.msg_receipts_gaps',
                    gaps=', '.join(
                        f'{a}-{b}' if a != b else str(a)
                        for a, b in report['gaps'])))
        if report['duplicates']:
            lines.append(gettext('retail_sync.msg_receipts_duplicates',
                    duplicates=', '.join(
                        f"{d['number']} (×{d['count']})"
                        for d in report['duplicates'])))
        if not report['gaps'] and not report['duplicates']:
            lines.append(gettext('retail_sync.msg_receipts_complete'))
        # The receipt journal's breaks found on arrival (journal.py)
        breaks = Operation.search([
                ('terminal', '=', self.id),
                ('journal_state', '=', 'broken'),
                ], order=[('sequence', 'ASC'), ('id', 'ASC')])
        if breaks:
            lines.append(gettext('retail_sync.msg_receipts_journal_breaks',
                    count=len(breaks), operations=', '.join(
                        str(o.receipt_number) if o.receipt_number
                        else f'#{o.sequence}' for o in breaks[:20])
                    + (', …' if len(breaks) > 20 else '')))
        return '\n'.join(lines)

    @classmethod
    def check_modification(cls, mode, points, values=None, external=False):
        super().check_modification(
            mode, points, values=values, external=external)
        if mode == 'write' and external and values and (
                values.keys() & {'device_state'}):
            raise AccessError(gettext('retail_sync.msg_device_state_readonly'))


class EnrollStart(ModelView):
    "Enrollment Code"
    __name__ = 'retail.sync.enroll.start'

    terminal = fields.Many2One('sale.point', "Terminal", readonly=True)
    code = fields.Char("Enrollment Code", readonly=True)
    expires = fields.Timestamp("Expires", readonly=True)
    qr_code = fields.Binary("QR Code", readonly=True)


class Enroll(Wizard):
    "Create an enrollment code for a terminal"
    __name__ = 'retail.sync.enroll'
    start_state = 'create_code'
    create_code = StateTransition()
    show = StateView('retail.sync.enroll.start',
        'retail_sync.enroll_start_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_create_code(self):
        Device = Pool().get('retail.sync.device')
        if self.model.__name__ == 'retail.sync.device':
            device = self.record
            code = Device.new_device_code(device)
            self.show.terminal = device.terminal
        else:
            device, code = Device.new_enrollment(self.record)
            self.show.terminal = self.record
        self.show.code = code
        self.show.expires = device.code_expires
        payload = {'v': 1, 'database': Transaction().database.name,
            'code': code}
        url = config.get('retail_sync', 'public_url')
        if url:
            payload['url'] = url
        self.show.qr_code = qr_svg(json.dumps(payload, separators=(',', ':')))
        return 'show'

    def default_show(self, fields):
        return {
            'terminal': (
                self.show.terminal.id if self.show.terminal else None),
            'code': self.show.code,
            'expires': self.show.expires,
            'qr_code': self.show.qr_code,
            }


class EnrollAttempt(ModelSQL, ModelView):
    """Enrollment Attempt: a code tried on the enroll endpoint, for the
    throttle and for an administrator to see the failed ones"""
    __name__ = 'retail.sync.enroll.attempt'

    remote_addr = fields.Char("Client Address", readonly=True)
    result = fields.Selection([
            ('enrolled', "Enrolled"),
            ('refused', "Unknown, Used or Expired Code"),
            ('throttled', "Throttled"),
            ], "Result", readonly=True, required=True)
    terminal = fields.Many2One(
        'sale.point', "Terminal", readonly=True, ondelete='CASCADE')
    device_name = fields.Char("Device Name", readonly=True)
    attempts = fields.Integer(
        "Attempts", readonly=True,
        help="Throttled attempts from the address are counted on one "
        "record per window.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.create_date, Index.Range()),
                    where=t.result == 'refused'),
                Index(t, (t.remote_addr, Index.Equality()),
                    (t.create_date, Index.Range())),
                })
        cls._order = [('id', 'DESC')]

    @classmethod
    def default_attempts(cls):
        return 1

    @classmethod
    def retry_after(cls, remote_addr, now=None):
        """Seconds until remote_addr may try a code again, None when it
        may now: failed attempts in the window are counted per address
        and per database"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = now or dt.datetime.now()
        since = now - dt.timedelta(seconds=ENROLL_WINDOW)
        refused = (table.result == 'refused') & (table.create_date >= since)
        waits = []
        for where, maximum in [
                (refused & (table.remote_addr == (remote_addr or '')),
                    ENROLL_MAX_ADDRESS),
                (refused, ENROLL_MAX_DATABASE)]:
            cursor.execute(*table.select(
                    Count(table.id), Min(table.create_date), where=where))
            count, oldest = cursor.fetchone()
            if count and count >= maximum:
                if isinstance(oldest, str):
                    oldest = dt.datetime.fromisoformat(oldest)
                waits.append(max(1, int((oldest - since).total_seconds()) + 1))
        return max(waits) if waits else None

    @classmethod
    def log(cls, remote_addr, result, terminal=None, device_name=None):
        "Record an attempt; throttled ones add up on one record per window"
        remote_addr = (remote_addr or '')[:64]
        if result != 'enrolled':
            logger.warning("enrollment %s from %s", result, remote_addr)
        if result == 'throttled':
            since = dt.datetime.now() - dt.timedelta(seconds=ENROLL_WINDOW)
            records = cls.search([
                    ('remote_addr', '=', remote_addr),
                    ('result', '=', 'throttled'),
                    ('create_date', '>=', since),
                    ], limit=1)
            if records:
                record, = records
                cls.write([record], {'attempts': record.attempts + 1})
                return record
        record, = cls.create([{
                    'remote_addr': remote_addr,
                    'result': result,
                    'terminal': terminal.id if terminal else None,
                    'device_name': device_name,
                    }])
        return record
