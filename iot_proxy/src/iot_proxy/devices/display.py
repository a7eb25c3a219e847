"""Customer line displays (2×20 ESC/POS, e.g. Epson DM-D) on a serial port.

Bytes are sent through python-escpos' Serial transport. The worker keeps the
port open, repositions the cursor per row (US $ x y) and writes padded rows, so
an update never scrolls or flickers. After a reconnect the last screen is sent
again.
"""

from __future__ import annotations

import contextlib
import logging
from decimal import Decimal
from typing import Any

from ..config import DisplayConfig
from ..errors import ValidationError
from ..events import EventHub
from ..money import Currency, parse_amount
from .base import Device
from .printer import release

log = logging.getLogger(__name__)


def table_for(codepage: str) -> tuple[int, str]:
    """ESC t table number and Python codec for a code page name."""
    from escpos.capabilities import get_profile

    wanted = codepage.upper().replace("-", "_")
    for n, name in get_profile(None).codePages.items():
        if name.upper().replace("-", "_") == wanted:
            codec = name.lower().replace("iso_", "iso").replace("-", "_")
            try:
                "".encode(codec)
            except LookupError:
                break
            return int(n), codec
    raise ValueError(f"unknown display code page {codepage!r}")


def fit(left: str, right: str, width: int) -> str:
    right = right[:width]
    room = width - len(right)
    if right and room > 0:
        room -= 1
        return left[:room].ljust(room) + " " + right if room > 0 else right.rjust(width)
    return left[:width].ljust(width)


def compose(body: Any, cfg: DisplayConfig) -> list[str]:
    """Turn a display request into exactly ``rows`` lines of ``columns`` characters."""
    if not isinstance(body, dict):
        raise ValidationError("body must be a JSON object")
    kind = body.get("kind")
    width = cfg.columns
    currency = Currency.from_json(body.get("currency", cfg.currency_symbol or None))

    def amount(key: str) -> str:
        value: Decimal = parse_amount(body.get(key), key)
        return currency.format(value)

    def text(key: str, default: str = "") -> str:
        value = body.get(key, default)
        if not isinstance(value, str):
            raise ValidationError(f"{key} must be a string", key)
        return value

    allowed = {"kind", "currency"}
    if kind == "lines":
        allowed |= {"lines"}
        lines = body.get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ValidationError("lines must be a list of strings", "lines")
        if len(lines) > cfg.rows:
            raise ValidationError(f"lines has more than {cfg.rows} rows", "lines")
        rows = list(lines)
    elif kind == "item":
        allowed |= {"name", "price", "quantity", "total", "total_label"}
        name = text("name")
        if not name:
            raise ValidationError("name is required for kind \"item\"", "name")
        if "quantity" in body:
            qty = parse_amount(body["quantity"], "quantity")
            if qty != 1:
                name = f"{qty.normalize():f}x {name}"
        rows = [fit(name, amount("price"), width)]
        if "total" in body:
            rows.append(fit(text("total_label", "TOTAL"), amount("total"), width))
    elif kind == "total":
        allowed |= {"total", "label"}
        rows = [text("label", "TOTAL"), amount("total").rjust(width)]
    elif kind == "change":
        allowed |= {"change", "label"}
        rows = [text("label", "CHANGE"), amount("change").rjust(width)]
    elif kind == "thank_you":
        allowed |= {"message", "line2"}
        rows = [text("message", "Thank you!").center(width), text("line2").center(width)]
    elif kind == "clear":
        rows = []
    else:
        raise ValidationError(
            "kind must be one of lines, item, total, change, thank_you, clear", "kind")
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError(f"unknown field(s) for kind {kind!r}: {', '.join(sorted(unknown))}")
    rows = [r[:width].ljust(width) for r in rows[:cfg.rows]]
    rows += [" " * width] * (cfg.rows - len(rows))
    return rows


class DisplayDevice(Device):
    kind = "display"

    def __init__(self, cfg: DisplayConfig, hub: EventHub) -> None:
        super().__init__(cfg.name, cfg.transport, hub)
        self.cfg = cfg
        self.table, self.codec = table_for(cfg.codepage)
        self._printer: Any = None
        self.screen: list[str] = [" " * cfg.columns] * cfg.rows
        self._status.update(port=cfg.port, lines=list(self.screen))

    @classmethod
    def is_usable(cls, transport: str) -> bool:
        if transport == "dummy":
            return True
        from escpos.printer import Serial

        return bool(Serial.is_usable())

    def start(self) -> None:
        if self.transport == "dummy":
            self.set_status(connected=True)
        super().start()

    def work(self) -> None:
        self.wait(1.0)
        if self.transport != "dummy" and self._status.get("connected") is False \
                and not self.stopping:
            # Plugged back in? Put the last screen back.
            with contextlib.suppress(Exception):
                self.show(self.screen)

    def close(self) -> None:
        if self._printer is not None:
            release(self._printer)
            self._printer = None

    def _ensure_open(self) -> Any:
        if self._printer is None:
            from escpos.printer import Serial

            p = Serial(self.cfg.port, baudrate=self.cfg.baudrate, timeout=1, dsrdtr=False)
            p.open()
            p._raw(b"\x1b@" + b"\x0c" + b"\x1bt" + bytes([self.table]))
            self._printer = p
        return self._printer

    def encode(self, rows: list[str]) -> bytes:
        out = b""
        for y, row in enumerate(rows, start=1):
            out += b"\x1f$" + bytes([1, y]) + row.encode(self.codec, errors="replace")
        return out

    def show(self, rows: list[str]) -> dict[str, Any]:
        """Write the rows (run on the device thread through submit())."""
        self.screen = rows
        if self.transport == "dummy":
            self.set_status(lines=list(rows))
            return {"lines": rows}
        try:
            p = self._ensure_open()
            p._raw(self.encode(rows))
            p.device.flush()
        except Exception as exc:
            self.close()
            self.set_status(connected=False, error=f"display unreachable: {exc}", lines=rows)
            raise
        self.set_status(connected=True, error=None, lines=list(rows))
        return {"lines": rows}
