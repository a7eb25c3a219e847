"""A believable demo chain: two branches, three terminals, a supermarket and
a boutique catalog, customers, employees of every role with known PINs.

Loaded through proteus, as a manager would key it in, so every rule of the
modules applies to it."""
import datetime as dt
from decimal import Decimal

from .barcodes import ean13, in_store_code

DEMO_PASSWORD = 'retail-demo'
# (name, login or None, role, branches, PIN)
EMPLOYEES = [
    ("Alice Martin", 'cashier.bxl', 'Cashier', ['BXL'], '2580'),
    ("Bruno Peeters", None, 'Cashier', ['BXL'], '1357'),
    ("Chloé Janssens", 'manager.bxl', 'Store Manager', ['BXL'], '4826'),
    ("Dirk Claes", None, 'Cashier', ['ANT'], '3691'),
    ("Eva Maes", 'manager.ant', 'Store Manager', ['ANT'], '7254'),
    ("Sam Admin", None, 'Super Admin', ['BXL', 'ANT'], '9513'),
    ]
BRANCHES = [
    # code, name, city, terminals (prefix, name)
    ('BXL', "Brussels Central", "Brussels",
        [('BXL1', "Brussels Till 1"), ('BXL2', "Brussels Till 2")]),
    ('ANT', "Antwerp Meir", "Antwerp", [('ANT1', "Antwerp Till 1")]),
    ]
# Fresh produce sold by weight: name, PLU, price per kg
PRODUCE = [
    ("Bananas", '4011', '1.99'), ("Jonagold Apples", '4133', '2.79'),
    ("Vine Tomatoes", '4664', '3.49'), ("Carrots", '4562', '1.29'),
    ("Red Peppers", '4088', '4.99'), ("Lemons", '4053', '3.20'),
    ]
# Dairy with lots and expiry: name, EAN first 12, price, shelf life days
DAIRY = [
    ("Whole Milk 1 L", '541234500001', '1.29', 10),
    ("Greek Yogurt 500 g", '541234500002', '2.49', 21),
    ("Gouda Young 400 g", '541234500003', '4.95', 60),
    ("Butter 250 g", '541234500004', '2.89', 45),
    ("Fresh Cream 200 ml", '541234500005', '1.59', 14),
    ]
# Packaged goods: name, EAN first 12, price, category
PACKAGED = [
    ("Spaghetti 500 g", '800123400001', '1.49', "Grocery"),
    ("Penne Rigate 500 g", '800123400002', '1.49', "Grocery"),
    ("Arabica Coffee Beans 1 kg", '871234500001', '13.90', "Grocery"),
    ("Dark Chocolate 72% 100 g", '541234500101', '2.35', "Grocery"),
    ("Speculoos Biscuits 250 g", '541234500102', '1.99', "Grocery"),
    ("Basmati Rice 1 kg", '500123400001', '3.29', "Grocery"),
    ("Extra Virgin Olive Oil 750 ml", '800123400003', '8.99', "Grocery"),
    ("Sparkling Water 1.5 L", '541234500201', '0.79', "Beverages"),
    ("Orange Juice 1 L", '541234500202', '2.69', "Beverages"),
    ("Belgian Blond Beer 33 cl", '541234500203', '1.65', "Beverages"),
    ("Red Wine Côtes du Rhône 75 cl", '300123400001', '7.49', "Beverages"),
    ("Laundry Detergent 2 L", '400123400001', '9.95', "Household"),
    ]
# In-store (variable measure) layouts: prefix, kind, item digits, value
# decimals (weight in grams, price in cents); 5 value digits, no check
IN_STORE_LAYOUTS = [
    ('21', 'weight', 5, 3), ('22', 'weight', 5, 3),
    ('23', 'price', 5, 2), ('24', 'price', 5, 2),
    ]
CUSTOMERS = [
    ("Marie Dubois", "marie.dubois@example.com", "+32 470 12 34 56"),
    ("Jan Vermeulen", "jan.vermeulen@example.com", "+32 475 98 76 54"),
    ("Sofia Rossi", "sofia.rossi@example.com", "+32 486 11 22 33"),
    ("Café Central SRL", "orders@cafe-central.example.com", "+32 2 555 01 02"),
    ]


# What the shop pays its suppliers, as a share of the list price
COST_SHARE = {
    "Fresh Produce": Decimal('0.55'), "Dairy": Decimal('0.68'),
    "Grocery": Decimal('0.62'), "Beverages": Decimal('0.58'),
    "Household": Decimal('0.60'), "Shirts": Decimal('0.42'),
    "Shoes": Decimal('0.48'),
    }


def cost_price(list_price, category):
    "The cost price of a product of category sold at list_price"
    return (Decimal(list_price) * COST_SHARE[category]).quantize(
        Decimal('0.0001'))


def sell_by_days(use_by_days):
    """The days to a lot's sell-by date (shelf life expiration date) from
    the days to its use-by date (expiration date): the shop withdraws a lot
    a tenth of its life before it, at least a day"""
    return use_by_days - max(1, use_by_days // 10)


def load_stock(config, branches, stock_lines, say=print):
    """retail_stock's demo: lots of fresh products are near expiry 2 days
    before their sell-by date; each branch reorders its first two
    unlotted products from the other branch (internal order points), the
    first one under its minimum (a low-stock item)"""
    from proteus import Model

    say("Demo: near expiry lead time and reorder points")
    Template = Model.get('product.template')
    OrderPoint = Model.get('stock.order_point')
    templates = {p.template.id for p, _, _, expiry in stock_lines if expiry}
    for template in Template.find([('id', 'in', list(templates))]):
        template.near_expiry_days = 2
        template.save()
    unlotted = []
    for product, quantity, _, expiry in stock_lines:
        if not expiry and product not in [p for p, _ in unlotted]:
            unlotted.append((product, float(quantity)))
    codes = sorted(branches)
    for code, other in zip(codes, codes[1:] + codes[:1]):
        if code == other:
            break
        branch, provider = branches[code], branches[other]
        (low, low_qty), (ok, ok_qty) = unlotted[:2] if code == codes[0] \
            else unlotted[2:4]
        for product, minimum, target in [
                (low, low_qty + 4, low_qty + 10), (ok, 1, ok_qty)]:
            OrderPoint(product=product, type='internal',
                location=branch.warehouse.storage_location,
                provisioning_location=provider.warehouse.storage_location,
                min_quantity=minimum, target_quantity=target).save()


def load(config, admin_password, say=print, demo_password=DEMO_PASSWORD):
    """Load the demo data into the database of the proteus config; the
    demo users get demo_password"""
    from proteus import Model, Wizard

    from trytond.exceptions import UserWarning as TrytonWarning
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear, create_tax, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)

    Currency = Model.get('currency.currency')
    Party = Model.get('party.party')
    User = Model.get('res.user')

    say("Demo: company and accounting")
    eur, = Currency.find([('code', '=', 'EUR')]) or [Currency(
            name="Euro", code='EUR', symbol="€", rounding=Decimal('0.01'),
            digits=2)]
    if eur.id is None or eur.id < 0:
        eur.save()
    company_config = Wizard('company.company.config')
    company_config.execute('company')
    company = company_config.form
    party = Party(name="Nord & Co Retail")
    party.save()
    company.party = party
    company.currency = eur
    company_config.execute('add')
    config._context = User.get_preferences(True, {})
    Company = Model.get('company.company')
    company, = Company.find()

    # Calendar fiscal years: this one and the next (a shop open on the
    # 1st of January posts its sales there)
    this_year = dt.date.today().year
    for year in [this_year, this_year + 1]:
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(
                company, today=(dt.date(year, 1, 1), dt.date(year, 12, 31))))
        fiscalyear.save()
        fiscalyear.click('create_period')
    create_chart(company)
    accounts = get_accounts(company)
    vat_food = create_tax(Decimal('.06'))
    vat_food.name = vat_food.description = "VAT 6%"
    vat_food.save()
    vat_std = create_tax(Decimal('.21'))
    vat_std.name = vat_std.description = "VAT 21%"
    vat_std.save()

    Category = Model.get('product.category')
    food_acc = Category(name="Food (VAT 6%)", accounting=True)
    food_acc.account_revenue = accounts['revenue']
    food_acc.account_expense = accounts['expense']
    food_acc.customer_taxes.append(vat_food)
    food_acc.save()
    std_acc = Category(name="General (VAT 21%)", accounting=True)
    std_acc.account_revenue = accounts['revenue']
    std_acc.account_expense = accounts['expense']
    std_acc.customer_taxes.append(vat_std)
    std_acc.save()
    categories = {}
    for name in ["Fresh Produce", "Dairy", "Grocery", "Beverages",
            "Household", "Shirts", "Shoes"]:
        categories[name] = Category(name=name)
        categories[name].save()

    say("Demo: branches, warehouses and terminals")
    Location = Model.get('stock.location')
    Branch = Model.get('retail.branch')
    POS = Model.get('sale.point')
    Journal = Model.get('account.journal')
    SequenceStrict = Model.get('ir.sequence.strict')
    SequenceType = Model.get('ir.sequence.type')
    PriceList = Model.get('product.price_list')
    Address = Model.get('party.address')
    Country = Model.get('country.country')

    default_wh, = Location.find([('code', '=', 'WH')])
    customer_loc, = Location.find([('code', '=', 'CUS')])
    supplier_loc, = Location.find([('code', '=', 'SUP')])
    journal_revenue, = Journal.find([('type', '=', 'revenue')], limit=1)
    pos_sequence_type, = SequenceType.find([('name', '=', "POS")], limit=1)
    belgium = Country(name="Belgium", code='BE')
    belgium.save()

    antwerp_prices = PriceList(name="Antwerp prices", price='list_price')
    line = antwerp_prices.lines.new()
    line.formula = 'unit_price * Decimal("1.05")'
    antwerp_prices.save()

    branches, terminals = {}, {}
    for code, name, city, tills in BRANCHES:
        if code == 'BXL':
            # The company's first warehouse becomes this branch's: its
            # zones carry the branch's name like those of every other
            # branch, so a list of locations says which shop each is in
            warehouse = default_wh
            warehouse.name = f"{name} Warehouse"
            warehouse.code = code
            warehouse.save()
            for zone, label in [('storage_location', "Storage"),
                    ('input_location', "Input"),
                    ('output_location', "Output")]:
                location = getattr(warehouse, zone)
                location.name = f"{name} {label}"
                location.save()
        else:
            storage = Location(name=f"{name} Storage", type='storage')
            storage.save()
            input_ = Location(name=f"{name} Input", type='storage')
            input_.save()
            output = Location(name=f"{name} Output", type='storage')
            output.save()
            warehouse = Location(
                name=f"{name} Warehouse", type='warehouse', code=code,
                storage_location=storage, input_location=input_,
                output_location=output)
            warehouse.save()
            for loc in (storage, input_, output):
                loc.parent = warehouse
                loc.save()
        address = Address(party=company.party, city=city,
            street=f"{name} 1", country=belgium)
        address.save()
        branch = Branch(name=name, code=code, warehouse=warehouse,
            timezone='Europe/Brussels', address=address)
        if code == 'ANT':
            branch.price_list = antwerp_prices
        branch.save()
        branches[code] = branch
        for prefix, till_name in tills:
            sequence = SequenceStrict(name=till_name,
                sequence_type=pos_sequence_type, company=company,
                prefix=f'{prefix}-', padding=6)
            sequence.save()
            # Shelf prices include VAT: the tills sell at gross prices
            pos = POS(name=till_name, branch=branch, receipt_prefix=prefix,
                tax_included=True,
                journal=journal_revenue, sequence=sequence,
                storage_location=warehouse.storage_location,
                customer_location=customer_loc)
            pos.save()
            terminals[prefix] = pos

    say("Demo: in-store barcode layouts")
    # The layouts the tills had built in: weight in grams (21, 22) and price
    # in cents (23, 24) after a 5-digit item code
    BarcodeLayout = Model.get('retail.barcode.layout')
    for sequence, (prefix, kind, item_digits, decimals) in enumerate(
            IN_STORE_LAYOUTS):
        BarcodeLayout(sequence=sequence, prefix=prefix, kind=kind,
            item_digits=item_digits, value_check=False, value_digits=5,
            value_decimals=decimals).save()

    say("Demo: payment methods")
    PaymentMethod = Model.get('sale.point.payment.method')
    Account = Model.get('account.account')
    for name, type_ in [("Cash", 'cash'), ("Card", 'card'),
            ("Mobile Wallet", 'wallet')]:
        if type_ == 'cash':
            account = accounts['cash']
        else:
            account, = accounts['cash'].duplicate(default={'name': name})
        PaymentMethod(name=name, account=account, type=type_,
            cash=type_ == 'cash').save()

    # Cash in/out at the till, and the booking of a counted-cash
    # difference when a session closes
    TransferType = Model.get('sale.point.cash.transfer.type')
    transfer_types = {}
    for name, account_key in [("Cash in", 'cash'), ("Bank deposit", 'cash'),
            ("Cash difference", 'expense')]:
        account = accounts[account_key]
        if name == "Bank deposit":
            account, = Account.find([('name', '=', "Card")], limit=1)
        transfer_types[name] = TransferType(name=name,
            journal=journal_revenue, account=account)
        transfer_types[name].save()
    IrModel = Model.get('ir.model')
    if IrModel.find([('name', '=', 'retail.sync.configuration')]):
        SyncConfiguration = Model.get('retail.sync.configuration')
        sync_config = SyncConfiguration(1)
        sync_config.cash_difference_type = transfer_types["Cash difference"]
        # The till's opening float comes from the shop's cash (protocol 1.2)
        float_type = TransferType(name="Opening float",
            journal=journal_revenue, account=accounts['cash'])
        float_type.save()
        sync_config.float_transfer_type = float_type
        sync_config.save()

    say("Demo: supermarket and boutique catalog")
    Uom = Model.get('product.uom')
    Template = Model.get('product.template')
    unit, = Uom.find([('name', '=', "Unit")])
    kg, = Uom.find([('name', '=', "Kilogram")])
    # Scales weigh to the gram: kilograms with 3 decimals
    kg.rounding = Decimal('0.001')
    kg.digits = 3
    kg.save()
    # The catalog's prices are shelf prices, VAT included: each product has
    # that gross price and the list price without VAT (rounded to the price
    # digits, as Tryton's sale_point computes it)
    vat_rates = {food_acc.id: Decimal('.06'), std_acc.id: Decimal('.21')}

    def set_prices(template, gross):
        gross = Decimal(gross)
        rate = vat_rates[template.account_category.id]
        template.gross_price = gross
        template.list_price = (gross / (1 + rate)).quantize(Decimal('0.0001'))
    stock_lines = []  # (product, quantity, unit, lot expiry or None)

    def make_template(name, uom, price, category, account_category,
            code=None, ean=None, lot=False, shelf_days=None, in_store=()):
        template = Template(name=name, default_uom=uom, type='goods',
            salable=True, account_category=account_category)
        set_prices(template, price)
        template.categories.append(Category(category.id))
        if lot:
            template.lot_required = ['storage', 'customer']
            # stock_lot_sled: the shelf life expiration date is the sell-by
            # date (posting refuses a sale after it), the expiration date
            # the use-by date printed on the pack
            template.shelf_life_state = 'optional'
            template.shelf_life_time = sell_by_days(shelf_days)
            template.expiration_state = 'optional'
            template.expiration_time = shelf_days
        template.save()
        product, = template.products
        product.cost_price = cost_price(price, category.name)
        if code:
            product.suffix_code = code
        for code13 in ([ean] if ean else []) + list(in_store):
            product.identifiers.new(type='ean', code=code13)
        product.save()
        return product

    for name, plu, price in PRODUCE:
        # The scale labels of every in-store layout find the product by
        # its item code: the label's code with the value zeroed
        product = make_template(name, kg, price, categories["Fresh Produce"],
            food_acc, code=f'PLU{plu}', in_store=[
                in_store_code(prefix, item_digits, plu)
                for prefix, _, item_digits, _ in IN_STORE_LAYOUTS])
        stock_lines.append((product, Decimal('60'), kg, None))
    today = dt.date.today()
    for name, code12, price, days in DAIRY:
        product = make_template(name, unit, price, categories["Dairy"],
            food_acc, code=f'D{code12}', ean=ean13(code12), lot=True,
            shelf_days=days)
        # Two lots: one expiring soon, one later; FEFO takes the first
        stock_lines.append((product, Decimal('24'), unit,
                today + dt.timedelta(days=max(2, days // 4))))
        stock_lines.append((product, Decimal('36'), unit,
                today + dt.timedelta(days=days)))
    for name, code12, price, category in PACKAGED:
        account_category = food_acc if category in (
            "Grocery", "Beverages") and "Beer" not in name and \
            "Wine" not in name else std_acc
        product = make_template(name, unit, price, categories[category],
            account_category, code=f'G{code12}', ean=ean13(code12))
        stock_lines.append((product, Decimal('48'), unit, None))

    AttributeSet = Model.get('product.attribute.set')
    Attribute = Model.get('product.attribute')
    size = Attribute(name='size', string="Size", type_='selection',
        selection="S:S\nM:M\nL:L\nXL:XL")
    size.save()
    colour = Attribute(name='colour', string="Colour", type_='selection',
        selection="white:White\nblue:Light Blue\npink:Pink\nblack:Black\n"
        "brown:Brown")
    colour.save()
    shoe_size = Attribute(name='shoe_size', string="Shoe Size",
        type_='selection',
        selection="\n".join(f"{s}:{s}" for s in range(38, 45)))
    shoe_size.save()
    clothing = AttributeSet(name="Clothing")
    clothing.attributes.extend([size, colour])
    clothing.save()
    footwear = AttributeSet(name="Footwear")
    footwear.attributes.extend([shoe_size, Attribute(colour.id)])
    footwear.save()

    ean_seq = [541299900000]

    def next_ean():
        ean_seq[0] += 1
        return ean13(str(ean_seq[0]))

    boutique = [
        ("Oxford Shirt", 'OXF', '49.95', categories["Shirts"], clothing,
            [('size', ['S', 'M', 'L', 'XL']),
                ('colour', ['white', 'blue', 'pink'])]),
        ("Leather Derby Shoes", 'DRB', '119.00', categories["Shoes"],
            footwear,
            [('shoe_size', [str(s) for s in range(38, 45)]),
                ('colour', ['black', 'brown'])]),
        ]
    attributes = {a.name: a for a in [size, colour, shoe_size]}
    # The shirt's variants come from its Size × Colour matrix (retail_product:
    # codes OXF-<size>-<colour>, internal EAN-13s); the shoes are variants
    # made one by one with their own EANs
    matrix = bool(Model.get('ir.module').find([
                ('name', '=', 'retail_product'),
                ('state', '=', 'activated')]))
    for name, code, price, category, attribute_set, axes in boutique:
        template = Template(name=name, default_uom=unit, type='goods',
            salable=True, code=code,
            account_category=std_acc, attribute_set=attribute_set)
        set_prices(template, price)
        template.categories.append(Category(category.id))
        if matrix and code == 'OXF':
            template.save()
            Axis = Model.get('product.template.variant_axis')
            for sequence, (axis_name, values) in enumerate(axes, 1):
                axis = Axis(template=template, sequence=sequence)
                axis.attribute = Attribute(attributes[axis_name].id)
                for value in list(axis.values):
                    if value.value not in values:
                        axis.values.remove(value)
                axis.save()
            generate = Wizard('product.template.generate_variants',
                [template])
            generate.execute('generate')
            template.reload()
        else:
            (axis1, values1), (axis2, values2) = axes
            first = True
            for v1 in values1:
                for v2 in values2:
                    if first:
                        product = template.products[0]
                        first = False
                    else:
                        product = template.products.new()
                    product.suffix_code = f'-{v1}-{v2}'.upper()
                    product.attributes = {axis1: v1, axis2: v2}
                    product.identifiers.new(type='ean', code=next_ean())
            template.save()
        for product in template.products:
            stock_lines.append((product, Decimal('6'), unit, None))
            product.cost_price = cost_price(price, category.name)
        template.save()

    say("Demo: opening stock with lots and expiry dates")
    Move = Model.get('stock.move')
    Lot = Model.get('stock.lot')
    moves = []
    for branch in branches.values():
        for product, quantity, uom, expiry in stock_lines:
            move = Move(product=product, unit=uom, quantity=float(quantity),
                from_location=supplier_loc,
                to_location=branch.warehouse.storage_location,
                unit_price=product.cost_price,
                currency=eur, effective_date=today)
            if expiry:
                days = (expiry - today).days
                lot = Lot(number=f'L{expiry:%y%m%d}-{product.id}-'
                    f'{branch.code}', product=product,
                    expiration_date=expiry,
                    shelf_life_expiration_date=today + dt.timedelta(
                        days=sell_by_days(days)))
                lot.save()
                move.lot = lot
            moves.append(move)
    Move.save(moves)
    # Opening stock, not a purchase: no origin to warn about (purchase,
    # which stock_supply needs, warns of supplier moves without one)
    try:
        Move.click(moves, 'do')
    except TrytonWarning as warning:
        # As the client does: the user accepts the warning and retries
        Warning = Model.get('res.user.warning')
        Warning(user=config.user, name=warning.name, always=False).save()
        Move.click(moves, 'do')

    if IrModel.find([('name', '=', 'retail.stock.low')]):
        load_stock(config, branches, stock_lines, say)

    say("Demo: customers")
    for name, email, phone in CUSTOMERS:
        customer = Party(name=name)
        customer.contact_mechanisms.new(type='email', value=email)
        customer.contact_mechanisms.new(type='mobile', value=phone)
        customer.save()

    say("Demo: users and employees with PINs")
    Employee = Model.get('company.employee')
    Role = Model.get('retail.pos.role')
    Group = Model.get('res.group')
    roles = {r.name: r for r in Role.find([])}
    groups = {g.name: g for g in Group.find([('name', 'in', [
                    "Retail Cashier", "Retail Store Manager", "POS",
                    "Stock", "Sales"])])}
    logins = [('admin', admin_password, "Super Admin", "all branches", None)]
    for name, login, role, branch_codes, pin in EMPLOYEES:
        employee_party = Party(name=name)
        employee_party.save()
        employee = Employee(party=employee_party, company=company,
            pos_role=roles[role])
        employee.branches.extend(
            [Branch(branches[c].id) for c in branch_codes])
        employee.pos_pin = pin
        employee.save()
        if login:
            user = User(name=name, login=login, password=demo_password)
            user.companies.append(Company(company.id))
            user.company = company
            user.employees.append(Employee(employee.id))
            user.employee = employee
            group_name = ("Retail Store Manager" if role == "Store Manager"
                else "Retail Cashier")
            user.groups.append(Group(groups[group_name].id))
            if role == "Store Manager":
                user.groups.append(Group(groups["Stock"].id))
            user.save()
            if role == "Store Manager":
                for c in branch_codes:
                    branch = Branch(branches[c].id)
                    branch.managers.append(User(user.id))
                    branch.save()
            logins.append((login, demo_password, role,
                    ', '.join(branch_codes), pin))
    admin, = User.find([('login', '=', 'admin')])
    admin.employees.append(Employee.find(
            [('party.name', '=', "Sam Admin")])[0])
    admin.employee = admin.employees[0]
    admin.save()
    # The demo is configured: no first-login configuration wizard
    WizardItem = Model.get('ir.module.config_wizard.item')
    items = WizardItem.find([('state', '!=', 'done')])
    for item in items:
        item.state = 'done'
    WizardItem.save(items)
    config._context = User.get_preferences(True, {})
    return {
        'logins': logins,
        'employees': [(n, r, ', '.join(b), p)
            for n, _, r, b, p in EMPLOYEES],
        'terminals': sorted(terminals),
        }
