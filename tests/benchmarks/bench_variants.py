"""Benchmark: generating a template's variants from a 3-attribute matrix of
200 combinations (retail_product), beside the baseline of creating the same
200 products (template, code, attribute values, EAN identifier) with one
plain Product.create, in the same run and database.

    .venv/bin/python tests/benchmarks/bench_variants.py [--runs N]
        [--postgresql] [--slice N] [--test-mode]

Runs on SQLite (in memory); with --postgresql, again on a PostgreSQL
server it starts in a temporary directory (each backend in a process of
its own: trytond's backend is chosen at import).  Prints, per backend, the
median seconds of each over N runs, each on a new template, their ratio,
and the SQL statements each sent (a figure the machine's load does not
change)."""
import argparse
import os
import statistics
import time
from decimal import Decimal

os.environ.setdefault('DB_NAME', ':memory:')

SIZES = ['XS', 'S', 'M', 'L', 'XL', 'XXL', '3XL', '4XL']
COLOURS = ['white', 'blue', 'pink', 'black', 'grey']
FITS = ['slim', 'regular', 'relaxed', 'tall', 'short']


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--postgresql', action='store_true')
    parser.add_argument('--slice', type=int, metavar='N',
        help="create at most N products a call, in the baseline and the "
        "generation (as on SQLite; before, 50 on every backend)")
    parser.add_argument('--test-mode', action='store_true',
        help="validate as trytond's test runner does (Function fields too)")
    args = parser.parse_args()
    if args.postgresql:
        import subprocess
        import sys
        root = os.path.dirname(os.path.dirname(os.path.dirname(
                    os.path.abspath(__file__))))
        sys.path.insert(0, root)
        from tests.support.servers import PostgresServer
        extra = ['--test-mode'] if args.test_mode else []
        if args.slice:
            extra += ['--slice', str(args.slice)]
        subprocess.run([sys.executable, __file__, '--runs', str(args.runs)]
            + extra, check=True)
        with PostgresServer(reuse_env=False) as pg:
            subprocess.run([sys.executable, __file__, '--runs',
                    str(args.runs)] + extra, check=True, env=dict(os.environ,
                    TRYTOND_DATABASE_URI=pg.uri, DB_NAME='bench_variants',
                    DB_CACHE=pg.uri.rstrip('/')))
        return

    from trytond.modules.company.tests import create_company, set_company
    from trytond.modules.retail_product import barcode
    from trytond.modules.retail_product import product as product_module
    from trytond.modules.retail_product.product import slices
    from trytond.pool import Pool
    from trytond.tests.test_tryton import activate_module, with_transaction
    from trytond.transaction import Transaction

    activate_module(['retail_product'])
    if args.slice:
        product_module.call_slice = lambda Model: args.slice
    # As a production server: trytond's test runner also validates every
    # Function field of the records created (reading computed prices and
    # multi-values), which a server does not (ModelStorage._validate)
    Pool.test = args.test_mode
    baseline, generate = [], []
    cpu = {'baseline': [], 'generate': []}
    # SQL statements sent by each measured call (the last run's): a figure
    # the machine's load does not change
    statements = {'baseline': 0, 'generate': 0}
    counting = []

    def count_statements(cursor_class):
        "Count the statements cursor_class executes while counting is set"
        if getattr(cursor_class, '_bench_counted', False):
            return
        execute = cursor_class.execute

        def counted(self, *args, **kwargs):
            if counting:
                statements[counting[0]] += 1
            return execute(self, *args, **kwargs)
        cursor_class.execute = counted
        cursor_class._bench_counted = True

    # with_transaction restarts the transaction with the identifier table
    # locked when allocating internal codes asks for it, as trytond's RPC
    # does
    @with_transaction()
    def measure():
        del baseline[:], generate[:]
        cpu['baseline'].clear()
        cpu['generate'].clear()
        pool = Pool()
        count_statements(type(Transaction().connection.cursor()))
        Attribute = pool.get('product.attribute')
        AttributeSet = pool.get('product.attribute.set')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        company = create_company()
        with set_company(company):
            unit, = Uom.search([('name', '=', "Unit")])
            attributes = Attribute.create([{
                        'name': name, 'string': name.title(),
                        'type_': 'selection',
                        'selection': '\n'.join(f'{v}:{v}' for v in values),
                        } for name, values in [('size', SIZES),
                        ('colour', COLOURS), ('fit', FITS)]])
            attribute_set = AttributeSet(name="Apparel",
                attributes=attributes)
            attribute_set.save()
            axes_values = [SIZES, COLOURS, FITS]

            def new_template(code, with_axes):
                values = {
                    'name': f"Shirt {code}", 'code': code, 'type': 'goods',
                    'default_uom': unit.id, 'list_price': Decimal('40'),
                    'attribute_set': attribute_set.id,
                    }
                if with_axes:
                    values['variant_axes'] = [('create', [{
                                    'sequence': i, 'attribute': a.id,
                                    'values': [('create', [{
                                                    'sequence': j,
                                                    'value': v,
                                                    'code': v.upper(),
                                                    'price_extra': Decimal(
                                                        j % 3)}
                                                for j, v in enumerate(
                                                    vs)])]}
                                for i, (a, vs) in enumerate(
                                    zip(attributes, axes_values))])]
                template, = Template.create([values])
                return template

            import itertools
            combinations = list(itertools.product(*axes_values))
            assert len(combinations) == 200
            for run in range(args.runs):
                template = new_template(f'B{run}', False)
                codes = barcode.allocate(len(combinations))
                vlist = [{
                        'template': template.id,
                        'suffix_code': '-' + '-'.join(v.upper() for v in c),
                        'attributes': dict(zip(['size', 'colour', 'fit'], c)),
                        'identifiers': [('create', [{
                                        'type': 'ean', 'code': code}])],
                        } for c, code in zip(combinations, codes)]
                statements['baseline'] = 0
                counting[:] = ['baseline']
                start, start_cpu = time.perf_counter(), time.process_time()
                # in the calls generate_variants makes: one on PostgreSQL,
                # slices on SQLite (which cannot check the code constraint
                # of 200 records in one call)
                for some in slices(Product, vlist):
                    Product.create(some)
                baseline.append(time.perf_counter() - start)
                cpu['baseline'].append(time.process_time() - start_cpu)
                counting.clear()

                template = new_template(f'G{run}', True)
                statements['generate'] = 0
                counting[:] = ['generate']
                start, start_cpu = time.perf_counter(), time.process_time()
                made = Template.generate_variants([template])
                generate.append(time.perf_counter() - start)
                cpu['generate'].append(time.process_time() - start_cpu)
                counting.clear()
                assert len(made) == 200, len(made)

    measure()
    backend = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://').split(
        ':')[0]
    base = statistics.median(baseline)
    gen = statistics.median(generate)
    base_cpu = statistics.median(cpu['baseline'])
    gen_cpu = statistics.median(cpu['generate'])
    print(f"backend: {backend}; 3 attributes (8 × 5 × 5) = 200 variants; "
        f"median of {args.runs} runs"
        + ("; test-mode validation" if args.test_mode else "")
        + (f"; calls of {args.slice} products" if args.slice else "")
        + f"; load average {os.getloadavg()[0]:.1f}")
    print(f"  baseline Product.create of 200 products: {base:.3f} s "
        f"(CPU of this process {base_cpu:.3f} s; "
        f"{statements['baseline']} SQL statements)")
    print(f"  generate_variants (codes, EAN-13s, prices): {gen:.3f} s "
        f"(CPU of this process {gen_cpu:.3f} s; "
        f"{statements['generate']} SQL statements)")
    print(f"  ratio generate / baseline: {gen / base:.2f}")


if __name__ == '__main__':
    main()
