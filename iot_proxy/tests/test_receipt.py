"""Receipt format: validation (400 reasons) and rendering through python-escpos."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import pytest
from conftest import receipt
from PIL import Image

from iot_proxy.config import PrinterConfig
from iot_proxy.errors import ValidationError
from iot_proxy.escpos_decode import decode
from iot_proxy.money import Currency, parse_amount
from iot_proxy.receipt import parse_receipt, render_receipt, sample_receipt


def render(data: dict, **cfg_kw) -> tuple:
    cfg = PrinterConfig(name="p", transport="dummy", **cfg_kw)
    out = render_receipt(parse_receipt(data, cfg), cfg)
    return out, decode(out)


def test_receipt_renders_every_section():
    _, d = render(sample_receipt())
    for text in ("Demo Shop", "1 Market Street", "S-000123", "Café crème", "2 x 2,50 €",
                 "10% off", "-0,36 €", "Valid one year", "Subtotal", "Loyalty", "27,24 €",
                 "Cash", "Change", "2,76 €", "VAT 6% (7,77 €)", "0,47 €",
                 "Thank you for your visit!"):
        assert text in d.text, text
    assert "TOTAL" in d.styled(bold=True)
    assert "Change" in d.styled(bold=True)
    assert "Demo Shop" in d.styled(bold=True, size=(2, 2))
    assert d.find("barcode") == [{"cmd": "barcode", "type": "CODE128", "data": "S-000123"}]
    assert d.find("qr") == [{"cmd": "qr", "data": "https://shop.example/r/S-000123"}]
    assert d.find("cut") == [{"cmd": "cut", "mode": "full"}]
    assert d.names()[-1] == "cut"


@pytest.mark.parametrize("width, columns", [(80, 48), (58, 32)])
def test_receipt_paper_width_58_and_80_mm(width, columns):
    _, d = render(receipt(), paper_width=width)
    lines = d.text.splitlines()
    assert max(len(line) for line in lines) == columns
    assert "-" * columns in lines
    coffee = next(line for line in lines if line.startswith("Coffee"))
    assert len(coffee) == columns and coffee.endswith("5.00")


def test_receipt_code_page_is_configurable():
    data = receipt(lines=[{"name": "Crème brûlée", "total": "4.00"}],
                   currency={"symbol": "€", "position": "after"})
    raw, d = render(data, codepage="CP858")
    assert b"\x1bt\x13" in raw  # ESC t 19: CP858
    assert "Crème brûlée" in d.text and "4.00 €" in d.text
    raw, d = render(dict(data, codepage="CP1252"))
    assert b"\x1bt\x10" in raw  # ESC t 16: WPC1252
    assert "Crème brûlée" in d.text


def test_receipt_partial_cut_and_no_cut():
    _, d = render(receipt(cut="partial"))
    assert d.find("cut") == [{"cmd": "cut", "mode": "partial"}]
    _, d = render(receipt(cut="none"))
    assert d.find("cut") == []


def test_receipt_qr_instead_of_barcode():
    data = receipt(qr="S-0001")
    del data["barcode"]
    _, d = render(data)
    assert d.find("qr") == [{"cmd": "qr", "data": "S-0001"}] and not d.find("barcode")


def test_receipt_logo_is_printed_as_raster_image():
    img = Image.new("RGB", (1000, 200), "white")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    _, d = render(receipt(logo={"base64": base64.b64encode(buf.getvalue()).decode()}))
    images = d.find("image")
    assert images and images[0]["width"] <= 576  # scaled down to 80 mm paper


def test_money_amounts_are_decimal_strings_never_floats():
    assert parse_amount("12.50", "x") == Decimal("12.50")
    for bad in (12.5, 12, "12,50", "1e3", "NaN", "", True):
        with pytest.raises(ValidationError):
            parse_amount(bad, "x")
    # 3 × 0.10 is 0.30 exactly (a float would give 0.30000000000000004).
    _, d = render(receipt(lines=[{"name": "Sweet", "quantity": "3", "unit_price": "0.10"}],
                          total="0.30"))
    assert "0.30" in d.text and "0000" not in d.text
    assert Currency(decimal_separator=",", thousands_separator=".", symbol="€",
                    position="after").format(Decimal("1234567.5")) == "1.234.567,50 €"


@pytest.mark.parametrize("change, field", [
    ({"total": 5.0}, "receipt.total"),
    ({"total": None}, "receipt.total"),
    ({"lines": "x"}, "receipt.lines"),
    ({"lines": [{"name": "A"}]}, "receipt.lines[0].total"),
    ({"lines": [{"name": "A", "total": "1", "colour": "red"}]}, "receipt.lines[0]"),
    ({"paper_width": 76}, "receipt.paper_width"),
    ({"codepage": "KLINGON"}, "receipt.codepage"),
    ({"barcode": {"type": "EAN13", "data": "12ab"}}, "receipt.barcode.data"),
    ({"barcode": {"type": "PDF999", "data": "1"}}, "receipt.barcode.type"),
    ({"qr": {"data": "x", "size": 40}}, "receipt.qr.size"),
    ({"cut": "sideways"}, "receipt.cut"),
    ({"logo": {"base64": "not base64!"}}, "receipt.logo.base64"),
    ({"payments": [{"method": "Cash", "amount": "ten"}]}, "receipt.payments[0].amount"),
    ({"extra": 1}, "receipt"),
])
def test_malformed_receipt_names_the_field(change, field):
    data = receipt(**change)
    if change.get("total", 0) is None:
        del data["total"]
    with pytest.raises(ValidationError) as err:
        render(data)
    assert err.value.field == field
