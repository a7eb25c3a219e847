# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Proteus helpers for the retail scenarios (and other modules' tests)"""
from proteus import Model
from proteus.config import get_config


def create_branch(code, name, company, config=None):
    "Create a branch with its own warehouse"
    Location = Model.get('stock.location', config=config)
    Branch = Model.get('retail.branch', config=config)
    storage = Location(name=f"{name} Storage", type='storage')
    storage.save()
    warehouse = Location(name=f"{name} Warehouse", type='warehouse',
        code=code, storage_location=storage, input_location=storage,
        output_location=storage)
    warehouse.save()
    storage.parent = warehouse
    storage.save()
    branch = Branch(name=name, code=code, company=company,
        warehouse=warehouse, timezone='Europe/Brussels')
    branch.save()
    return branch


def create_terminal(branch, prefix, name=None, journal=None, config=None):
    "Create a terminal (sale.point) of the branch"
    config = config or get_config()
    POS = Model.get('sale.point', config=config)
    Location = Model.get('stock.location', config=config)
    Journal = Model.get('account.journal', config=config)
    SequenceStrict = Model.get('ir.sequence.strict', config=config)
    SequenceType = Model.get('ir.sequence.type', config=config)
    if journal is None:
        journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    sequence_type, = SequenceType.find([('name', '=', "POS")], limit=1)
    sequence = SequenceStrict(name=name or prefix,
        sequence_type=sequence_type, company=branch.company)
    sequence.save()
    customer, = Location.find([('code', '=', 'CUS')])
    terminal = POS(name=name or prefix, branch=branch, receipt_prefix=prefix,
        journal=journal, sequence=sequence,
        storage_location=branch.warehouse.storage_location,
        customer_location=customer)
    terminal.save()
    return terminal
