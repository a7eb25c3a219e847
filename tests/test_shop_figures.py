"""The shop's figures `./setup/start` prints (setup/retail_setup/server.py
shop_figures): products, lots and the stock in the shop's storage at cost
price, read from the database as it is, on a small SQLite database with
the tables they come from."""
import os
import sqlite3
import sys
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup import cli, server  # noqa: E402

SCHEMA = """
CREATE TABLE product_template (id INTEGER PRIMARY KEY, active BOOLEAN);
CREATE TABLE product_product (id INTEGER PRIMARY KEY, template INTEGER,
    active BOOLEAN);
CREATE TABLE stock_lot (id INTEGER PRIMARY KEY, product INTEGER);
CREATE TABLE stock_location (id INTEGER PRIMARY KEY, type VARCHAR);
CREATE TABLE stock_move (id INTEGER PRIMARY KEY, product INTEGER,
    from_location INTEGER, to_location INTEGER, internal_quantity FLOAT,
    state VARCHAR);
CREATE TABLE product_cost_price (id INTEGER PRIMARY KEY, product INTEGER,
    cost_price NUMERIC);
CREATE TABLE currency_currency (id INTEGER PRIMARY KEY, code VARCHAR);
CREATE TABLE company_company (id INTEGER PRIMARY KEY, currency INTEGER);
"""


def test_figures_count_products_lots_and_stock_at_cost(tmp_path):
    db = sqlite3.connect(tmp_path / 'shop.sqlite')
    db.executescript(SCHEMA)
    db.executescript("""
        INSERT INTO currency_currency VALUES (1, 'EUR');
        INSERT INTO company_company VALUES (1, 1);
        INSERT INTO product_template VALUES (1, 1), (2, 1), (3, 0);
        INSERT INTO product_product VALUES (1, 1, 1), (2, 2, 1), (3, 2, 0),
            (4, 3, 1);
        INSERT INTO stock_lot VALUES (1, 1), (2, 1);
        INSERT INTO stock_location VALUES (1, 'supplier'), (2, 'storage'),
            (3, 'customer'), (4, 'storage');
        INSERT INTO product_cost_price VALUES (1, 1, 0.8772), (2, 2, 20.979);
        -- 24 + 36 milk received, 5 sold; 6 shirts received, moved between
        -- storage locations (no change), 1 sold; a draft move does not count
        INSERT INTO stock_move VALUES
            (1, 1, 1, 2, 24, 'done'), (2, 1, 1, 2, 36, 'done'),
            (3, 1, 2, 3, 5, 'done'), (4, 2, 1, 2, 6, 'done'),
            (5, 2, 2, 4, 6, 'done'), (6, 2, 4, 3, 1, 'done'),
            (7, 2, 1, 2, 100, 'draft');
        """)
    db.commit()
    db.close()
    figures = server.shop_figures('sqlite', None, 'shop', db_path=tmp_path)
    assert figures == {
        'products': 2, 'lots': 2, 'stock_units': Decimal('60.000'),
        # 55 × 0.8772 + 5 × 20.979
        'stock_value': Decimal('153.14'), 'currency': 'EUR'}
    assert cli.format_figures(figures) == (
        "Shop figures: 2 products, 2 lots, 60 units in stock worth 153.14 "
        "EUR at cost price.")


def test_no_figures_from_a_database_without_the_tables(tmp_path):
    sqlite3.connect(tmp_path / 'empty.sqlite').close()
    assert server.shop_figures(
        'sqlite', None, 'empty', db_path=tmp_path) is None
