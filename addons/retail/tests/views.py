# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Check that the list views of a module can be drawn by the web client"""
from lxml import etree

from trytond.pool import Pool

# The column widgets of sao 8.0 (Sao.View.TreeXMLViewParser.WIDGETS): a
# field whose type is not one of them needs a widget attribute (a
# timestamp or datetime shows as widget="date" and widget="time"), or the
# whole list, and any form embedding it, fails to open.
SAO_TREE_WIDGETS = {
    'binary', 'boolean', 'callto', 'char', 'date', 'dict', 'email', 'float',
    'image', 'integer', 'many2many', 'many2one', 'numeric', 'one2many',
    'one2one', 'progressbar', 'reference', 'selection', 'multiselection',
    'sip', 'text', 'time', 'timedelta', 'url',
    }


def unrenderable_tree_columns(module):
    """Return (model, field, widget) of the list columns of module's views
    that sao cannot draw"""
    pool = Pool()
    View = pool.get('ir.ui.view')
    problems = []
    views = View.search([
            ('module', '=', module),
            ['OR', ('type', '=', 'tree'), ('inherit.type', '=', 'tree')],
            ])
    for view in views:
        base = view.inherit or view
        Model = pool.get(view.model)
        result = Model.fields_view_get(view_id=base.id, view_type='tree')
        tree = etree.fromstring(result['arch'])
        for element in tree.iter('field'):
            name = element.get('name')
            field = result['fields'].get(name, {})
            widget = element.get('widget', field.get('type'))
            if widget not in SAO_TREE_WIDGETS:
                problems.append((view.model, name, widget))
    return problems


def unapplied_view_extensions(module):
    """Return (view, reason) of module's view extensions that Tryton does not
    apply to the view they target

    Tryton applies to a view the extensions that inherit it directly, and
    only to a base view (an extension of an extension is never applied), so
    each extension must inherit the base view of its model and each element
    it adds must be in the view the web client gets."""
    pool = Pool()
    View = pool.get('ir.ui.view')
    problems = []
    views = View.search([
            ('module', '=', module),
            ('inherit', '!=', None),
            ])
    for view in views:
        if view.inherit.model != view.model:
            # A base view of its own model built on another model's view
            continue
        name = f'{module}.{view.name} ({view.model})'
        if view.inherit.inherit and view.inherit.inherit.model == view.model:
            problems.append((name, f"inherits the extension view "
                    f"{view.inherit.module}.{view.inherit.name}, not the "
                    "base view"))
            continue
        arch = view.inherit.view_get(model=view.model)['arch']
        tree = etree.fromstring(arch)
        extension = etree.fromstring(view.arch)
        for xpath in extension:
            for element in xpath.iter():
                if element is xpath or not (
                        element.get('name') or element.get('id')):
                    continue
                attribute = 'name' if element.get('name') else 'id'
                path = (f"//{element.tag}[@{attribute}="
                    f"'{element.get(attribute)}']")
                if not tree.xpath(path):
                    problems.append((name, f"{path} is not in the view"))
    return problems
