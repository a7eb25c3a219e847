"""Scale-test data: N product variants with barcodes, prices and stock.

In bulk, straight into the tables the product and stock modules own, a
thousand rows per INSERT, in one transaction: templates, variants (every
tenth template has five sizes), EAN-13 barcodes with correct check
digits, list prices for the company, categories, and the opening stock as
done moves of the stock ledger in every branch's storage.  Going through
the ORM record by record, as the demo does, runs at about a hundred
variants a second here; this path is what a catalog import must do."""
import datetime as dt
import time
from decimal import Decimal

from .barcodes import ean13

BATCH = 1000
SIZES = ['XS', 'S', 'M', 'L', 'XL']


def _plan(n, start):
    """Yield (number, variants) until n variants"""
    made, i = 0, start
    while made < n:
        i += 1
        count = min(5 if i % 10 == 0 else 1, n - made)
        yield i, count
        made += count


def log_changes(pool, product_ids, branch_ids):
    """Append the new variants and their branch stock to the sync change
    log, as the ORM would, so enrolled terminals receive them in their next
    delta pull (when retail_sync is activated)"""
    try:
        Change = pool.get('retail.sync.change')
    except KeyError:
        return
    Change.log('product', product_ids)
    Change.log('stock', product_ids,
        {p: branch_ids for p in product_ids})


def create_products(config_path, database, n, say=print):
    from trytond import config as tconfig
    tconfig.update_etc(config_path)
    from sql import Table
    from sql.aggregate import Max

    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    started = time.monotonic()
    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0) as transaction:
        connection = transaction.connection
        cursor = connection.cursor()
        Company = pool.get('company.company')
        Uom = pool.get('product.uom')
        Category = pool.get('product.category')
        Branch = pool.get('retail.branch')
        Location = pool.get('stock.location')
        company, = Company.search([], limit=1)
        unit, = Uom.search([('name', '=', "Unit")])
        accounting = Category.search([('accounting', '=', True)], limit=1)
        account_category = accounting[0].id if accounting else None
        supplier, = Location.search([('code', '=', 'SUP')])
        branches = Branch.search([])
        storages = [b.warehouse.storage_location.id for b in branches]
        made_ids = []
        category = Category(name=f"Scale test {dt.datetime.now():%H%M%S}")
        category.save()

        def table(name):
            return Table(name)

        def allocate(name, count):
            if backend.name == 'postgresql':
                return transaction.database.nextid(connection, name, count) \
                    if count > 1 else [transaction.database.nextid(
                            connection, name)]
            t = table(name)
            cursor.execute(*t.select(Max(t.id)))
            last = cursor.fetchone()[0] or 0
            return list(range(last + 1, last + 1 + count))

        def insert(name, columns, rows):
            t = table(name)
            for r in range(0, len(rows), BATCH):
                cursor.execute(*t.insert(
                        [getattr(t, c) for c in columns], rows[r:r + BATCH]))

        template_t = table('product_template')
        cursor.execute(*template_t.select(template_t.id,
                where=template_t.code.like('SC%')))
        start = len(cursor.fetchall()) * 10
        now = dt.datetime.now()
        today = dt.date.today()
        plan = list(_plan(n, start))
        made = 0
        for offset in range(0, len(plan), BATCH * 5):
            chunk = plan[offset:offset + BATCH * 5]
            template_ids = allocate('product_template', len(chunk))
            variant_count = sum(c for _, c in chunk)
            product_ids = iter(allocate('product_product', variant_count))
            templates, prices, categories = [], [], []
            products, identifiers, moves = [], [], []
            for template_id, (i, count) in zip(template_ids, chunk):
                price = Decimal(100 + (i * 37) % 9900) / 100
                templates.append([template_id, True, f'SC{i:08d}',
                        False, now, 0, unit.id, f"Scale item {i}", 'goods',
                        account_category, True, unit.id])
                prices.append([company.id, now, 0, price, template_id])
                categories.append([category.id, now, 0, template_id])
                for v in range(count):
                    product_id = next(product_ids)
                    made_ids.append(product_id)
                    suffix = f'-{SIZES[v]}' if count > 1 else ''
                    products.append([product_id, True,
                            f'SC{i:08d}{suffix}', now, 0, suffix,
                            template_id])
                    identifiers.append([
                            ean13('49' + f'{i:09d}{v:01d}'[-10:]),
                            now, 0, product_id, 'ean'])
                    for storage in storages:
                        moves.append([product_id, supplier.id, storage,
                                unit.id, 10.0, 10.0, 'done', today,
                                company.id, company.currency.id,
                                (price * Decimal('0.6')).quantize(
                                    Decimal('0.0001')), 0, now])
            insert('product_template', ['id', 'active', 'code', 'consumable',
                    'create_date', 'create_uid', 'default_uom', 'name',
                    'type', 'account_category', 'salable', 'sale_uom'],
                templates)
            insert('product_list_price', ['company', 'create_date',
                    'create_uid', 'list_price', 'template'], prices)
            insert('product_template-product_category', ['category',
                    'create_date', 'create_uid', 'template'], categories)
            insert('product_product', ['id', 'active', 'code', 'create_date',
                    'create_uid', 'suffix_code', 'template'], products)
            insert('product_identifier', ['code', 'create_date',
                    'create_uid', 'product', 'type'], identifiers)
            insert('stock_move', ['product', 'from_location', 'to_location',
                    'unit', 'quantity', 'internal_quantity', 'state',
                    'effective_date', 'company', 'currency', 'unit_price',
                    'create_uid', 'create_date'], moves)
            made += variant_count
            if say:
                say(f"  {made}/{n} variants "
                    f"({time.monotonic() - started:.0f}s)")
        log_changes(pool, made_ids, [b.id for b in branches])
        if backend.name == 'postgresql':
            # Fresh statistics: without them the first queries over the new
            # rows (a terminal's bootstrap) plan as if the tables were empty
            cursor.execute('ANALYZE')
        transaction.commit()
    seconds = time.monotonic() - started
    if say:
            say(f"Created {made} product variants with barcodes, prices and "
            f"stock in {len(storages)} warehouse(s) in {seconds:.1f}s "
            f"({made / seconds:.0f} variants/s).")
    return made, seconds
