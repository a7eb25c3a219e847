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


# -- code pages, right-to-left, image lines -------------------------------------------
def _text_bytes_are_announced(raw: bytes) -> None:
    """Every byte >= 0x80 of printed text comes after an ESC t (the printer was told)."""
    first_escape_t = raw.find(b"\x1bt")
    first_high = next((i for i, b in enumerate(raw) if b >= 0x80 and raw[i - 1:i] != b"\x1bt"),
                      None)
    assert first_escape_t >= 0
    assert first_high is None or first_high > first_escape_t


def test_auto_code_page_announces_every_page_and_keeps_columns():
    """AUTO: é is not sent as GB18030 (A8 A6) when a line also holds Chinese; every
    text byte is in a code page announced with ESC t; no line exceeds 48 columns"""
    data = receipt(codepage="AUTO", lines=[
        {"name": "Café crème", "total": "3.00"},
        {"name": "Café 咖啡", "total": "3.50"},
        {"name": "Ελληνικά καφές", "total": "2.00"},
        {"name": "Žluťoučký kůň", "total": "1.00"},
    ], total="9.50")
    raw, d = render(data)
    assert b"\xa8\xa6" not in raw and "咖啡".encode("gb18030") not in raw
    _text_bytes_are_announced(raw)
    text = d.text
    assert "Café crème" in text and "Ελληνικά καφές" in text and "Žluťoučký kůň" in text
    pages = {c["codec"] for c in d.find("codepage")}
    assert {"cp437", "cp737"} <= pages, pages
    assert all(len(line) <= 48 for line in text.splitlines())
    # The line no code page carries is an image of the paper's width, not '?'
    assert "Caf?" not in text and "咖啡" not in text
    images = d.find("image")
    assert len(images) == 1 and images[0]["width"] <= 576 and images[0]["height"] == 24


def test_fixed_code_page_prints_what_it_cannot_carry_as_an_image():
    data = receipt(codepage="CP858", lines=[{"name": "Crème", "total": "1.00"},
                                            {"name": "Ελληνικά", "total": "2.00"}],
                   total="3.00")
    raw, d = render(data)
    assert d.find("codepage") == [{"cmd": "codepage", "n": 19, "codec": "cp858"}]
    assert "Crème" in d.text and "?" not in d.text and "Ελληνικά" not in d.text
    assert len(d.find("image")) == 1


def test_typographic_punctuation_prints_as_text_in_a_fixed_code_page():
    """CP858 has no ’ – “ ” nor the narrow space of French: they print as ' - " and
    a space, in the same columns, and the line stays text (no image line)"""
    data = receipt(codepage="CP858", lines=[
        {"name": "Pomme d\u2019Api \u2013 1\u202fkg", "total": "1.00"},
        {"name": "\u201cBio\u201d caf\u00e9 \u2014 Ath", "total": "2.00"}],
        total="3.00")
    raw, d = render(data)
    assert d.find("image") == []
    assert "Pomme d'Api - 1 kg" in d.text and '"Bio" café - Ath' in d.text
    line = next(line for line in d.text.splitlines() if line.startswith("Pomme"))
    assert len(line) == 48 and line.endswith("1.00")
    # a code page that carries them prints them as they are
    raw, d = render(dict(data, codepage="CP1252"))
    assert "Pomme d\u2019Api \u2013 1" in d.text and d.find("image") == []


def test_hebrew_is_printed_in_visual_order_through_a_hebrew_code_page():
    data = receipt(codepage="AUTO", lines=[{"name": "שלום עולם (3)", "total": "2.00"}],
                   total="2.00")
    _, d = render(data)
    line = next(line for line in d.text.splitlines() if line.endswith("2.00")
                and "ם" in line)
    # Visual order: the last letter of the logical text prints first, brackets kept
    assert line.startswith("(3) םלוע םולש") and len(line) == 48
    assert "cp862" in {c["codec"] for c in d.find("codepage")}


def test_arabic_is_joined_and_in_visual_order_on_an_image_line():
    """Arabic letters take their joined forms (arabic-reshaper) in visual order
    (python-bidi); the default profile has no code page with every joined form,
    so the line is an image drawn with an installed font"""
    from iot_proxy.textout import font_for, font_paths, render_line, visual

    shaped = visual("مرحبا")
    # meem initial, reh final, hah initial, beh medial, alef final; reversed
    assert shaped == "\ufee3\ufeae\ufea3\ufe92\ufe8e"[::-1]
    fonts = font_paths()
    assert all(font_for(ch, fonts) for ch in shaped), "no font with Arabic glyphs"
    img = render_line(shaped, fonts)
    assert img.width == 5 * 12 + 4 and img.getbbox() is not None  # ink, 5 columns
    _, d = render(receipt(codepage="AUTO", lines=[{"name": "مرحبا", "total": "1.00"}],
                          total="1.00"))
    assert len(d.find("image")) == 1 and "1.00" in d.text


def test_chinese_image_line_uses_a_font_that_has_the_glyphs():
    from iot_proxy.textout import font_for, font_paths

    fonts = font_paths()
    path = font_for("咖", fonts)
    assert path is not None, f"no CJK font among {fonts} (Debian: fonts-droid-fallback)"


def test_control_characters_never_reach_the_printer_as_commands():
    _, d = render(receipt(lines=[{"name": "Evil\x1bp\x00\x19\x19 item", "total": "1.00"}],
                          total="1.00"))
    assert d.find("drawer") == [] and "Evil?p?" in d.text
