# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Notes written at a till about a product (a damaged shelf label, a
missing price): pushed as an operation, shown in the back office and sent
to the other tills of the branch"""
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.retail_sync import schema
from trytond.modules.retail_sync.changelog import ChangeLogMixin
from trytond.modules.retail_sync.pull import PulledKind
from trytond.modules.retail_sync.push import OperationHandler
from trytond.modules.retail_sync.wire import Rejected, utc
from trytond.pool import Pool, PoolMeta


class Note(ChangeLogMixin, ModelSQL, ModelView):
    "Example Note"
    __name__ = 'retail.example.note'

    terminal = fields.Many2One(
        'sale.point', "Terminal", required=True, readonly=True)
    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, readonly=True)
    employee = fields.Many2One(
        'company.employee', "Employee", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    text = fields.Text("Text", required=True)
    client_time = fields.Timestamp("Client Time", readonly=True)

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # A note goes to the tills of its branch
        return [('example_note', [r.id for r in records],
                {r.id: [r.branch.id] for r in records})]


def serialise_notes(ids, scope):
    "{id: note, or None when the till must drop it}"
    Note = Pool().get('retail.example.note')
    result = dict.fromkeys(ids)
    for note in Note.browse(Note.search([('id', 'in', ids)])):
        if note.branch.id == scope.branch.id:
            result[note.id] = {
                'id': note.id,
                'product': note.product.id if note.product else None,
                'text': note.text,
                'terminal': note.terminal.id,
                }
    return result


class Pull(metaclass=PoolMeta):
    __name__ = 'retail.sync.pull'

    @classmethod
    def _kinds(cls):
        kinds = super()._kinds()
        kinds['example_note'] = PulledKind('example_note', serialise_notes,
            model='retail.example.note', branch_field='branch')
        return kinds


class NoteHandler(OperationHandler):
    "A note written at the till"
    string = 'retail_example.msg_operation_type_example_note'
    payload_schema = {
        'type': 'object',
        'required': ['text'],
        'additionalProperties': False,
        'properties': {
            'text': dict(schema.string(500), minLength=1),
            'product': schema.integer(nullable=True),
            },
        }

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        Note = Pool().get('retail.example.note')
        product = payload.get('product')
        if product is not None:
            product = cls.get_product(product, batch).id
        if not payload['text'].strip():
            raise Rejected('invalid_payload', "text: must not be blank.")
        note, = Note.create([{
                    'terminal': batch.terminal.id,
                    'branch': batch.branch.id,
                    'employee': data.get('employee'),
                    'product': product,
                    'text': payload['text'],
                    'client_time': utc(client_time),
                    }])
        return {'note': note.id}


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers['example_note'] = NoteHandler
        return handlers
