"""Structured receipts, labels and raw jobs: validation and rendering to ESC/POS bytes.

Rendering goes through python-escpos (a ``Dummy`` printer captures the bytes with
the printer's profile and code page); the bytes are stored in the print queue
and later sent to the real transport unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .config import PrinterConfig
from .errors import ValidationError
from .money import Currency, line_total, parse_amount
from .textout import LineWriter, fit, ljust, rjust, visual
from .textout import width as tw

MAX_RAW_BYTES = 1024 * 1024
MAX_LINES = 1000
BARCODE_TYPES = {
    "EAN13": "EAN13", "EAN8": "EAN8", "UPCA": "UPC-A", "UPCE": "UPC-E", "CODE39": "CODE39",
    "CODE93": "CODE93", "CODE128": "CODE128", "ITF": "ITF", "NW7": "NW7", "CODABAR": "NW7",
}
DEFAULT_LABELS = {
    "subtotal": "Subtotal", "total": "TOTAL", "change": "Change", "discount": "Discount",
    "taxes": "Taxes", "payments": "Paid",
}


# -- small validators ------------------------------------------------------
def _obj(value: Any, field_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{field_name} must be a JSON object", field_name)
    return value


def _keys(obj: dict[str, Any], field_name: str, allowed: set[str]) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise ValidationError(
            f"{field_name} has unknown field(s): {', '.join(sorted(unknown))}", field_name)


def _str(obj: dict[str, Any], key: str, field_name: str, *, required: bool = False,
         max_len: int = 200, default: str = "") -> str:
    if key not in obj or obj[key] is None:
        if required:
            raise ValidationError(f"{field_name}.{key} is required", f"{field_name}.{key}")
        return default
    value = obj[key]
    if not isinstance(value, str):
        raise ValidationError(f"{field_name}.{key} must be a string", f"{field_name}.{key}")
    if len(value) > max_len:
        raise ValidationError(f"{field_name}.{key} is longer than {max_len} characters",
                              f"{field_name}.{key}")
    return value


def _str_list(value: Any, field_name: str, max_items: int = 50) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{field_name} must be a list of strings", field_name)
    if len(value) > max_items:
        raise ValidationError(f"{field_name} has more than {max_items} items", field_name)
    lines: list[str] = []
    for v in value:
        lines.extend(v.splitlines() or [""])
    return lines


def _amount(obj: dict[str, Any], key: str, field_name: str, *,
            required: bool = False) -> Decimal | None:
    if key not in obj or obj[key] is None:
        if required:
            raise ValidationError(f"{field_name}.{key} is required", f"{field_name}.{key}")
        return None
    return parse_amount(obj[key], f"{field_name}.{key}")


def _list(obj: dict[str, Any], key: str, field_name: str, max_items: int = MAX_LINES
          ) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{field_name}.{key} must be a list", f"{field_name}.{key}")
    if len(value) > max_items:
        raise ValidationError(f"{field_name}.{key} has more than {max_items} items",
                              f"{field_name}.{key}")
    return value


def _int(obj: dict[str, Any], key: str, field_name: str, lo: int, hi: int, default: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(f"{field_name}.{key} must be an integer from {lo} to {hi}",
                              f"{field_name}.{key}")
    return value


@dataclass
class BarcodeSpec:
    type: str
    data: str


def parse_barcode(value: Any, field_name: str) -> BarcodeSpec | None:
    if value is None:
        return None
    obj = _obj(value, field_name)
    _keys(obj, field_name, {"type", "data"})
    raw_type = _str(obj, "type", field_name, default="CODE128", max_len=20)
    key = re.sub(r"[^A-Z0-9]", "", raw_type.upper())
    if key not in BARCODE_TYPES:
        raise ValidationError(
            f"{field_name}.type {raw_type!r} is not one of {', '.join(sorted(BARCODE_TYPES))}",
            f"{field_name}.type")
    btype = BARCODE_TYPES[key]
    data = _str(obj, "data", field_name, required=True, max_len=80)
    if not data:
        raise ValidationError(f"{field_name}.data is empty", f"{field_name}.data")
    from escpos.escpos import Escpos

    check = data if btype != "CODE128" or data.startswith("{") else "{B" + data
    if not Escpos.check_barcode(btype, check):
        raise ValidationError(
            f"{field_name}.data {data!r} is not valid for {btype} (length or characters)",
            f"{field_name}.data")
    return BarcodeSpec(btype, data)


def parse_qr(value: Any, field_name: str) -> tuple[str, int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"data": value}
    obj = _obj(value, field_name)
    _keys(obj, field_name, {"data", "size"})
    data = _str(obj, "data", field_name, required=True, max_len=700)
    if not data:
        raise ValidationError(f"{field_name}.data is empty", f"{field_name}.data")
    return data, _int(obj, "size", field_name, 1, 16, 4)


def parse_image(value: Any, field_name: str, cfg: PrinterConfig) -> Any:
    """A logo: ``true`` (the printer's configured file) or ``{"base64": "<PNG/JPEG>"}``."""
    from PIL import Image, UnidentifiedImageError

    if value is None or value is False:
        return None
    if value is True:
        if not cfg.logo:
            raise ValidationError(f"{field_name}: printer {cfg.name!r} has no logo configured",
                                  field_name)
        try:
            img = Image.open(Path(cfg.logo))
            img.load()
        except (OSError, UnidentifiedImageError) as exc:
            raise ValidationError(f"{field_name}: cannot read the printer logo: {exc}",
                                  field_name) from None
    else:
        obj = _obj(value, field_name)
        _keys(obj, field_name, {"base64"})
        raw = _b64(obj.get("base64"), f"{field_name}.base64", 2 * 1024 * 1024)
        try:
            img = Image.open(io.BytesIO(raw))
            img.load()
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
            raise ValidationError(f"{field_name}.base64 is not a PNG/JPEG/GIF/BMP image",
                                  f"{field_name}.base64") from None
    if img.width * img.height > 4_000_000:
        raise ValidationError(f"{field_name} image is too large", field_name)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("RGB")
    if img.width > cfg.dots:
        img = img.resize((cfg.dots, max(1, img.height * cfg.dots // img.width)))
    return img


def _b64(value: Any, field_name: str, limit: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field_name} must be a non-empty base64 string", field_name)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{field_name} is not valid base64", field_name) from None
    if len(raw) > limit:
        raise ValidationError(f"{field_name} is larger than {limit} bytes", field_name)
    return raw


# -- receipt model -----------------------------------------------------------
@dataclass
class Line:
    name: str
    quantity: Decimal
    unit_price: Decimal | None
    total: Decimal
    discount: Decimal | None
    discount_label: str
    note: str
    uom: str


@dataclass
class Receipt:
    paper_width: int
    codepage: str
    currency: Currency
    labels: dict[str, str]
    logo: Any = None
    title: str = ""
    header: list[str] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    subtotal: Decimal | None = None
    discounts: list[tuple[str, Decimal]] = field(default_factory=list)
    taxes: list[tuple[str, Decimal | None, Decimal]] = field(default_factory=list)
    total: Decimal = Decimal(0)
    payments: list[tuple[str, Decimal]] = field(default_factory=list)
    change: Decimal | None = None
    barcode: BarcodeSpec | None = None
    qr: tuple[str, int] | None = None
    footer: list[str] = field(default_factory=list)
    cut: str = "full"
    copies: int = 1


RECEIPT_KEYS = {
    "paper_width", "codepage", "currency", "labels", "logo", "header", "meta", "lines",
    "subtotal", "discounts", "taxes", "total", "payments", "change", "barcode", "qr", "footer",
    "cut", "copies",
}


def parse_receipt(data: Any, cfg: PrinterConfig) -> Receipt:
    """Validate a structured receipt; raises :class:`ValidationError` naming the field."""
    r = _obj(data, "receipt")
    _keys(r, "receipt", RECEIPT_KEYS)
    paper = r.get("paper_width", cfg.paper_width)
    if paper not in (58, 80):
        raise ValidationError("receipt.paper_width must be 58 or 80", "receipt.paper_width")
    codepage = _str(r, "codepage", "receipt", default=cfg.codepage, max_len=20)
    check_codepage(codepage, "receipt.codepage")
    currency = Currency.from_json(r.get("currency"), "receipt.currency")
    labels = dict(DEFAULT_LABELS)
    if r.get("labels") is not None:
        given = _obj(r["labels"], "receipt.labels")
        _keys(given, "receipt.labels", set(DEFAULT_LABELS))
        for k in given:
            labels[k] = _str(given, k, "receipt.labels", max_len=40)
    rec = Receipt(paper_width=paper, codepage=codepage, currency=currency, labels=labels)
    rec.logo = parse_image(r.get("logo"), "receipt.logo", cfg)
    header = r.get("header")
    if isinstance(header, dict):
        _keys(header, "receipt.header", {"title", "lines"})
        rec.title = _str(header, "title", "receipt.header", max_len=100)
        rec.header = _str_list(header.get("lines"), "receipt.header.lines")
    else:
        rec.header = _str_list(header, "receipt.header")
    for i, item in enumerate(_list(r, "meta", "receipt", 30)):
        f = f"receipt.meta[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"label", "value"})
        rec.meta.append((_str(obj, "label", f, max_len=60), _str(obj, "value", f, max_len=100)))
    if "lines" not in r:
        raise ValidationError("receipt.lines is required (a list, may be empty)", "receipt.lines")
    for i, item in enumerate(_list(r, "lines", "receipt")):
        f = f"receipt.lines[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"name", "quantity", "unit_price", "total", "discount", "discount_label",
                       "note", "uom"})
        qty = _amount(obj, "quantity", f)
        qty = Decimal(1) if qty is None else qty
        unit = _amount(obj, "unit_price", f)
        total = _amount(obj, "total", f)
        if total is None:
            if unit is None:
                raise ValidationError(f"{f} needs total or unit_price", f"{f}.total")
            total = line_total(qty, unit, currency.decimals)
        rec.lines.append(Line(
            name=_str(obj, "name", f, required=True), quantity=qty, unit_price=unit, total=total,
            discount=_amount(obj, "discount", f),
            discount_label=_str(obj, "discount_label", f, max_len=60),
            note=_str(obj, "note", f, max_len=500), uom=_str(obj, "uom", f, max_len=10)))
    rec.subtotal = _amount(r, "subtotal", "receipt")
    for i, item in enumerate(_list(r, "discounts", "receipt", 50)):
        f = f"receipt.discounts[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"label", "amount"})
        rec.discounts.append((_str(obj, "label", f, max_len=60, default=labels["discount"]),
                              _amount(obj, "amount", f, required=True)))  # type: ignore[arg-type]
    for i, item in enumerate(_list(r, "taxes", "receipt", 50)):
        f = f"receipt.taxes[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"label", "base", "amount"})
        rec.taxes.append((_str(obj, "label", f, required=True, max_len=60),
                          _amount(obj, "base", f),
                          _amount(obj, "amount", f, required=True)))  # type: ignore[arg-type]
    rec.total = _amount(r, "total", "receipt", required=True)  # type: ignore[assignment]
    for i, item in enumerate(_list(r, "payments", "receipt", 50)):
        f = f"receipt.payments[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"method", "amount"})
        rec.payments.append((_str(obj, "method", f, required=True, max_len=60),
                             _amount(obj, "amount", f, required=True)))  # type: ignore[arg-type]
    rec.change = _amount(r, "change", "receipt")
    rec.barcode = parse_barcode(r.get("barcode"), "receipt.barcode")
    rec.qr = parse_qr(r.get("qr"), "receipt.qr")
    rec.footer = _str_list(r.get("footer"), "receipt.footer")
    cut = r.get("cut", "full")
    if cut is True:
        cut = "full"
    if cut is False:
        cut = "none"
    if cut not in ("full", "partial", "none"):
        raise ValidationError("receipt.cut must be \"full\", \"partial\" or \"none\"",
                              "receipt.cut")
    rec.cut = cut
    rec.copies = _int(r, "copies", "receipt", 1, 5, 1)
    return rec


def check_codepage(codepage: str, field_name: str) -> None:
    from escpos.printer import Dummy

    if codepage.upper() == "AUTO":
        return
    try:
        Dummy().charcode(codepage)
    except Exception:
        raise ValidationError(f"{field_name}: unknown code page {codepage!r} "
                              "(e.g. CP437, CP858, CP1252, ISO_8859-15 or AUTO)",
                              field_name) from None


# -- layout helpers ------------------------------------------------------------
# Widths are display columns (textout.width); the lines returned are in visual order
# (right-to-left runs reordered), ready for LineWriter.textln.
def _wrap_logical(text: str, width: int) -> list[str]:
    out: list[str] = []
    while tw(text) > width:
        head = fit(text, width)
        cut = text.rfind(" ", 0, len(head) + 1)
        cut = cut if cut > 0 else max(1, len(head))
        out.append(text[:cut])
        text = text[cut:].lstrip()
    out.append(text)
    return out


def two_cols(left: str, right: str, width: int) -> list[str]:
    """Left text and a right-aligned value on one line, wrapping the left part if needed."""
    right = visual(fit(right, width))
    room = width - tw(right) - 1
    if room < 1:
        return [visual(fit(left, width)), rjust(right, width)]
    pieces = _wrap_logical(left, room)
    lines = [visual(piece) for piece in pieces[:-1]]
    lines.append(ljust(visual(pieces[-1]), room) + " " + right)
    return lines


def wrap(text: str, width: int) -> list[str]:
    return [visual(piece) for piece in _wrap_logical(text, width)]


def _qty(q: Decimal) -> str:
    text = f"{q.normalize():f}" if q == q.to_integral_value() else f"{q:f}"
    return text


def new_dummy(codepage: str, profile: str = "", fonts: list[str] | None = None) -> Any:
    """A python-escpos Dummy printer (it captures the bytes) behind a :class:`LineWriter`:
    every code page announced, right-to-left in visual order, image lines as needed."""
    from escpos.printer import Dummy

    p = Dummy(profile=profile or None)
    p.hw("INIT")
    return LineWriter(p, codepage, fonts or ())


def _barcode(p: Any, spec: BarcodeSpec) -> None:
    data = spec.data
    if spec.type == "CODE128" and not data.startswith("{"):
        data = "{B" + data
    p.set(align="center")
    # python-escpos announces the renderer it picked on stdout; keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        p.barcode(data, spec.type, function_type="B" if spec.type in ("CODE128", "CODE93")
                  else None)
    p.set(align="left")


def _qr(p: Any, qr: tuple[str, int], native: bool) -> None:
    p.set(align="center")
    p.qr(qr[0], size=qr[1], native=native)
    p.ln()
    p.set(align="left")


def _image(p: Any, img: Any) -> None:
    p.set(align="center")
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(img, center=False)
    p.set(align="left")


def render_receipt(rec: Receipt, cfg: PrinterConfig) -> bytes:
    """Render a validated receipt to ESC/POS bytes with python-escpos."""
    width = cfg.columns or (48 if rec.paper_width == 80 else 32)
    cur = rec.currency.format
    p = new_dummy(rec.codepage, cfg.profile, cfg.fonts)
    for _ in range(rec.copies):
        p.set_with_default()
        if rec.logo is not None:
            _image(p, rec.logo)
        if rec.title:
            p.set(align="center", bold=True, double_height=True, double_width=True)
            for line in wrap(rec.title, width // 2):
                p.textln(line)
            p.set(normal_textsize=True, bold=False)
        p.set(align="center")
        for line in rec.header:
            for w in wrap(line, width):
                p.textln(w)
        p.set(align="left")
        if rec.meta:
            p.ln()
            for label, value in rec.meta:
                for w in two_cols(label, value, width):
                    p.textln(w)
        p.textln("-" * width)
        for line in rec.lines:
            for w in two_cols(line.name, cur(line.total), width):
                p.textln(w)
            if line.quantity != 1 or line.unit_price is not None:
                unit = f" x {cur(line.unit_price)}" if line.unit_price is not None else ""
                uom = f" {line.uom}" if line.uom else ""
                p.textln(visual(fit(f"  {_qty(line.quantity)}{uom}{unit}", width)))
            if line.discount is not None:
                label = "  " + (line.discount_label or rec.labels["discount"])
                for w in two_cols(label, cur(line.discount), width):
                    p.textln(w)
            if line.note:
                for w in wrap(line.note, width - 2):
                    p.textln("  " + w)
        p.textln("-" * width)
        if rec.subtotal is not None:
            for w in two_cols(rec.labels["subtotal"], cur(rec.subtotal), width):
                p.textln(w)
        for label, amount in rec.discounts:
            for w in two_cols(label, cur(amount), width):
                p.textln(w)
        p.set(bold=True, double_height=True)
        for w in two_cols(rec.labels["total"], cur(rec.total), width):
            p.textln(w)
        p.set(normal_textsize=True, bold=False)
        for method, amount in rec.payments:
            for w in two_cols(method, cur(amount), width):
                p.textln(w)
        if rec.change is not None:
            p.set(bold=True)
            for w in two_cols(rec.labels["change"], cur(rec.change), width):
                p.textln(w)
            p.set(bold=False)
        if rec.taxes:
            p.ln()
            for label, base, amount in rec.taxes:
                left = label if base is None else f"{label} ({cur(base)})"
                for w in two_cols(left, cur(amount), width):
                    p.textln(w)
        if rec.barcode or rec.qr:
            p.ln()
        if rec.barcode:
            _barcode(p, rec.barcode)
        if rec.qr:
            _qr(p, rec.qr, cfg.native_qr)
        if rec.footer:
            p.ln()
            p.set(align="center")
            for line in rec.footer:
                for w in wrap(line, width):
                    p.textln(w)
            p.set(align="left")
        if rec.cut == "none":
            p.ln(4)
        else:
            p.cut(mode="PART" if rec.cut == "partial" else "FULL")
    return p.output


def copy_banner(label: str, cfg: PrinterConfig) -> bytes:
    """The mark printed before a job printed again after an interruption."""
    width = cfg.text_columns
    p = new_dummy("AUTO", cfg.profile, cfg.fonts)
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.textln(visual(fit(f"*** {label} ***", width // 2)))
    p.set(normal_textsize=True, bold=False)
    p.textln("printing was interrupted"[:width])
    p.set(align="left")
    p.hw("INIT")
    return p.output


# -- labels ----------------------------------------------------------------------
@dataclass
class Label:
    name: str
    price: Decimal | None
    lines: list[str]
    barcode: BarcodeSpec | None
    copies: int


def parse_labels(data: Any) -> tuple[list[Label], Currency]:
    if not isinstance(data, list) or not data:
        raise ValidationError("labels must be a non-empty list", "labels")
    if len(data) > 500:
        raise ValidationError("labels has more than 500 items", "labels")
    labels = []
    currency = Currency()
    for i, item in enumerate(data):
        f = f"labels[{i}]"
        obj = _obj(item, f)
        _keys(obj, f, {"name", "price", "lines", "barcode", "copies", "currency"})
        if "currency" in obj:
            currency = Currency.from_json(obj["currency"], f"{f}.currency")
        labels.append(Label(
            name=_str(obj, "name", f, required=True, max_len=100),
            price=_amount(obj, "price", f),
            lines=_str_list(obj.get("lines"), f"{f}.lines", 5),
            barcode=parse_barcode(obj.get("barcode"), f"{f}.barcode"),
            copies=_int(obj, "copies", f, 1, 100, 1)))
    return labels, currency


def render_labels_escpos(labels: list[Label], currency: Currency, cfg: PrinterConfig) -> bytes:
    width = cfg.text_columns
    p = new_dummy(cfg.codepage, cfg.profile, cfg.fonts)
    for label in labels:
        for _ in range(label.copies):
            p.set_with_default()
            p.set(align="center", bold=True)
            for w in wrap(label.name, width):
                p.textln(w)
            p.set(bold=False)
            for line in label.lines:
                p.textln(visual(fit(line, width)))
            if label.price is not None:
                p.set(double_height=True, double_width=True, bold=True)
                p.textln(visual(fit(currency.format(label.price), width // 2)))
                p.set(normal_textsize=True, bold=False)
            if label.barcode:
                _barcode(p, label.barcode)
            p.cut(mode="PART")
    return p.output


def _zpl_text(text: str) -> str:
    # ^FH lets us escape the ZPL control characters as hex (_5E is ^, _7E is ~).
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def render_labels_zpl(labels: list[Label], currency: Currency) -> bytes:
    zpl_types = {"CODE128": "^BCN,80,Y,N,N", "EAN13": "^BEN,80,Y,N", "EAN8": "^B8N,80,Y,N",
                 "UPC-A": "^BUN,80,Y,N,N", "UPC-E": "^B9N,80,Y,N,N", "CODE39": "^B3N,N,80,Y,N",
                 "CODE93": "^BAN,80,Y,N,N", "ITF": "^B2N,80,Y,N,N", "NW7": "^BKN,N,80,Y,N"}
    out = []
    for label in labels:
        parts = ["^XA", "^CI28", f"^FO20,20^A0N,30,30^FH^FD{_zpl_text(label.name)}^FS"]
        y = 60
        for line in label.lines:
            parts.append(f"^FO20,{y}^A0N,24,24^FH^FD{_zpl_text(line)}^FS")
            y += 30
        if label.price is not None:
            parts.append(f"^FO20,{y}^A0N,45,45^FH^FD{_zpl_text(currency.format(label.price))}^FS")
            y += 55
        if label.barcode:
            parts.append(f"^FO20,{y}^BY2{zpl_types[label.barcode.type]}"
                         f"^FD{_zpl_text(label.barcode.data)}^FS")
        parts.append(f"^PQ{label.copies}")
        parts.append("^XZ")
        out.append("".join(parts))
    return "\n".join(out).encode("utf-8")


def parse_zpl(value: Any) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("zpl must be a non-empty string", "zpl")
    if "^XA" not in value.upper() or "^XZ" not in value.upper():
        raise ValidationError("zpl must contain at least one ^XA ... ^XZ label format", "zpl")
    data = value.encode("utf-8")
    if len(data) > MAX_RAW_BYTES:
        raise ValidationError(f"zpl is larger than {MAX_RAW_BYTES} bytes", "zpl")
    return data


def parse_raw(value: Any) -> bytes:
    return _b64(value, "data_base64", MAX_RAW_BYTES)


def sample_receipt() -> dict[str, Any]:
    """A receipt exercising every field (test print, README, tests)."""
    return {
        "currency": {"symbol": "€", "position": "after", "decimals": 2,
                     "decimal_separator": ","},
        "header": {"title": "Demo Shop", "lines": ["1 Market Street", "VAT BE0123.456.789"]},
        "meta": [{"label": "Receipt", "value": "S-000123"},
                 {"label": "Date", "value": "2025-01-31 14:02"},
                 {"label": "Cashier", "value": "Ann"}],
        "lines": [
            {"name": "Café crème", "quantity": "2", "unit_price": "2.50", "total": "5.00"},
            {"name": "Croissant", "quantity": "3", "unit_price": "1.20", "discount": "-0.36",
             "discount_label": "10% off", "total": "3.24"},
            {"name": "Gift card", "total": "20.00", "note": "Valid one year"},
        ],
        "subtotal": "28.24",
        "discounts": [{"label": "Loyalty", "amount": "-1.00"}],
        "total": "27.24",
        "taxes": [{"label": "VAT 6%", "base": "7.77", "amount": "0.47"}],
        "payments": [{"method": "Cash", "amount": "30.00"}],
        "change": "2.76",
        "barcode": {"type": "CODE128", "data": "S-000123"},
        "qr": {"data": "https://shop.example/r/S-000123", "size": 4},
        "footer": ["Thank you for your visit!"],
        "cut": "full",
    }
