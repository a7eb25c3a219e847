# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The operation types and pulled kinds a database registers, compared with
those an OpenAPI description of the sync API lists.

    python -m trytond.modules.retail_sync.openapi -c trytond.conf -d DB
        prints the registered operation types (with the schema of their
        payload) and pulled kinds as JSON;
    ... --check docs/sync-openapi.yaml
        prints what differs from the description and exits with 1 if
        anything does.

See docs/integrator-guide.md."""
import argparse
import json
import sys


def registered():
    """Return {'operations': {type: payload schema}, 'kinds': [names]} of
    the modules activated in the current transaction's database"""
    from trytond.pool import Pool
    pool = Pool()
    Push = pool.get('retail.sync.push')
    Pull = pool.get('retail.sync.pull')
    return {
        'operations': {t: h.payload_schema
            for t, h in Push._operation_handlers().items()},
        'kinds': Pull.kinds(),
        }


def activated():
    "The names of the modules activated in the current database"
    from trytond.pool import Pool
    Module = Pool().get('ir.module')
    return {m.name for m in Module.search([('state', '=', 'activated')])}


def _name(ref):
    return ref['$ref'].rsplit('/', 1)[1]


def described(document, modules=None):
    """Return {'operations': {type: payload schema name}, 'kinds': [names]}
    that an OpenAPI document (loaded) lists.

    An operation schema with "x-module" and a kind named in the "x-modules"
    of Change.kind ({kind: module}) are registered by that module: they are
    listed only when modules (the activated ones) includes it; without
    modules, only what retail_sync registers itself is listed."""
    schemas = document['components']['schemas']

    def present(module):
        return not module or (modules is not None and module in modules)
    operations = {}
    for ref in schemas['Operation']['oneOf']:
        operation = schemas[_name(ref)]
        if not present(operation.get('x-module')):
            continue
        _, own = operation['allOf']
        payload = own['properties']['payload']
        for type_ in own['properties']['type']['enum']:
            operations[type_] = _name(payload) if '$ref' in payload else (
                payload)
    kind = schemas['Change']['properties']['kind']
    return {
        'operations': operations,
        'kinds': [k for k in kind['enum']
            if present(kind.get('x-modules', {}).get(k))],
        }


def differences(document):
    """What the registered operation types and kinds and those of document
    do not share, as lines of text (none when they agree)"""
    have, doc = registered(), described(document, activated())
    lines = []
    for type_ in have['operations'].keys() - doc['operations'].keys():
        lines.append(f"operation type {type_!r} is not described")
    for type_ in doc['operations'].keys() - have['operations'].keys():
        lines.append(f"operation type {type_!r} is not registered")
    for type_ in have['operations'].keys() & doc['operations'].keys():
        schema = have['operations'][type_]
        if isinstance(schema, str) and schema != doc['operations'][type_]:
            lines.append(f"operation type {type_!r}: payload {schema} "
                f"described as {doc['operations'][type_]}")
    if have['kinds'] != doc['kinds']:
        lines.append(f"pulled kinds {have['kinds']} described as "
            f"{doc['kinds']}")
    return sorted(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m trytond.modules.retail_sync.openapi',
        description="List the sync operation types and pulled kinds a "
        "database registers; compare them with an OpenAPI description.")
    parser.add_argument('-c', '--config', help="the trytond configuration")
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--check', metavar='OPENAPI_YAML',
        help="exit with 1 when the description lists other types or kinds")
    args = parser.parse_args(argv)
    from trytond import config
    config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool(args.database).init()
    with Transaction().start(args.database, 0, readonly=True):
        if args.check:
            import yaml
            with open(args.check) as file:
                lines = differences(yaml.safe_load(file))
            for line in lines:
                print(line)
            return 1 if lines else 0
        json.dump(registered(), sys.stdout, indent=2)
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
