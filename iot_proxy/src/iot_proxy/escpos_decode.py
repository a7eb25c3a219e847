"""A small ESC/POS stream decoder used by the virtual printer and the tests.

It knows the commands python-escpos emits for receipts (text, styles, code
pages, barcodes, QR codes, raster images, cuts, drawer kicks, status queries)
and turns a byte stream into readable text plus a list of commands.
It is test tooling, not a printer driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ESC, GS, DLE, US = 0x1B, 0x1D, 0x10, 0x1F

HRI_A_TYPES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "NW7"}
HRI_B_TYPES = {65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
               71: "NW7", 72: "CODE93", 73: "CODE128", 74: "GS1-128"}


def codec_for_table(n: int) -> str:
    """Python codec for an ESC t character table number (python-escpos default profile)."""
    try:
        from escpos.capabilities import get_profile

        name = get_profile(None).codePages.get(str(n), "CP437")
    except Exception:  # pragma: no cover - escpos is a dependency
        name = "CP437"
    name = name.lower().replace("iso_", "iso").replace("-", "_")
    try:
        "".encode(name)
    except LookupError:
        return "cp437"
    return name


class Incomplete(Exception):
    """The buffer ends inside a command; wait for more bytes."""


@dataclass
class Decoded:
    """The result of decoding a stream."""

    text: str = ""
    commands: list[dict[str, Any]] = field(default_factory=list)
    segments: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c["cmd"] for c in self.commands]

    def find(self, cmd: str) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["cmd"] == cmd]

    def styled(self, **style: Any) -> str:
        """All text printed with the given style values, e.g. ``styled(bold=True)``."""
        return "".join(t for t, s in self.segments if all(s.get(k) == v for k, v in style.items()))


class Decoder:
    """Incremental decoder: ``feed()`` bytes, read ``result``; status queries are reported."""

    def __init__(self) -> None:
        self.result = Decoded()
        self.pending = b""
        self.style: dict[str, Any] = {"bold": False, "underline": 0, "align": "left",
                                      "size": (1, 1), "invert": False}
        self.codec = "cp437"
        self._qr_data: bytes = b""

    # -- public -----------------------------------------------------------
    def feed(self, data: bytes) -> list[int]:
        """Decode as much as possible; return the DLE EOT n queries seen, in order."""
        self.pending += data
        queries: list[int] = []
        pos = 0
        buf = self.pending
        while pos < len(buf):
            try:
                pos, query = self._step(buf, pos)
            except Incomplete:
                break
            if query is not None:
                queries.append(query)
        self.pending = buf[pos:]
        return queries

    # -- internals --------------------------------------------------------
    def _cmd(self, cmd: str, **kw: Any) -> None:
        self.result.commands.append({"cmd": cmd, **kw})

    def _text(self, s: str) -> None:
        self.result.text += s
        self.result.segments.append((s, dict(self.style)))

    @staticmethod
    def _need(buf: bytes, end: int) -> None:
        if len(buf) < end:
            raise Incomplete

    def _step(self, buf: bytes, pos: int) -> tuple[int, int | None]:
        b = buf[pos]
        if b == ESC:
            return self._esc(buf, pos), None
        if b == GS:
            return self._gs(buf, pos), None
        if b == DLE:
            self._need(buf, pos + 2)
            if buf[pos + 1] == 0x04:
                self._need(buf, pos + 3)
                n = buf[pos + 2]
                self._cmd("status_query", n=n)
                return pos + 3, n
            if buf[pos + 1] == 0x14:  # DLE DC4 fn ...: real-time pulse
                self._need(buf, pos + 5)
                self._cmd("realtime", fn=buf[pos + 2])
                return pos + 5, None
            self._cmd("unknown", bytes=buf[pos:pos + 2].hex())
            return pos + 2, None
        if b == US:  # line display: US $ x y, US 1/2/3 (modes), ...
            self._need(buf, pos + 2)
            if buf[pos + 1] == 0x24:
                self._need(buf, pos + 4)
                self._cmd("cursor", x=buf[pos + 2], y=buf[pos + 3])
                return pos + 4, None
            self._cmd("display_mode", n=buf[pos + 1])
            return pos + 2, None
        if b == 0x0A:
            self._text("\n")
            return pos + 1, None
        if b == 0x0C:
            self._cmd("clear")
            return pos + 1, None
        if b == 0x0B:
            self._cmd("home")
            return pos + 1, None
        if b in (0x0D, 0x00):
            return pos + 1, None
        if b == 0x09:
            self._text("\t")
            return pos + 1, None
        if b < 0x20:
            self._cmd("unknown", bytes=bytes([b]).hex())
            return pos + 1, None
        end = pos
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        self._text(buf[pos:end].decode(self.codec, errors="replace"))
        return end, None

    def _esc(self, buf: bytes, pos: int) -> int:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        one_arg = {0x45: "bold", 0x2D: "underline", 0x61: "align", 0x74: "codepage",
                   0x4D: "font", 0x64: "feed", 0x4A: "feed_dots", 0x21: "mode",
                   0x47: "double_strike", 0x33: "line_spacing", 0x56: "rotate",
                   0x7B: "upside_down", 0x63: "panel", 0x3D: "select_peripheral",
                   0x20: "char_spacing", 0x52: "intl_charset"}
        if c == 0x40:
            self._cmd("init")
            self.style.update(bold=False, underline=0, align="left", size=(1, 1), invert=False)
            return pos + 2
        if c == 0x32:
            self._cmd("line_spacing_default")
            return pos + 2
        if c == 0x70:  # ESC p m t1 t2
            self._need(buf, pos + 5)
            m = buf[pos + 2]
            self._cmd("drawer", pin=2 if m in (0, 48) else 5, on_ms=buf[pos + 3] * 2,
                      off_ms=buf[pos + 4] * 2)
            return pos + 5
        if c == 0x2A:  # ESC * m nL nH d1..dk (bit image column)
            self._need(buf, pos + 5)
            m, n = buf[pos + 2], buf[pos + 3] | buf[pos + 4] << 8
            k = n * (3 if m in (32, 33) else 1)
            self._need(buf, pos + 5 + k)
            self._cmd("bit_image", mode=m, width=n)
            return pos + 5 + k
        if c in one_arg:
            self._need(buf, pos + 3)
            n = buf[pos + 2]
            name = one_arg[c]
            if name == "bold":
                self.style["bold"] = bool(n & 1)
                self._cmd("bold", on=bool(n & 1))
            elif name == "underline":
                self.style["underline"] = n % 48 if n >= 48 else n
                self._cmd("underline", n=self.style["underline"])
            elif name == "align":
                self.style["align"] = {0: "left", 1: "center", 2: "right"}.get(n % 48, "left")
                self._cmd("align", value=self.style["align"])
            elif name == "codepage":
                self.codec = codec_for_table(n)
                self._cmd("codepage", n=n, codec=self.codec)
            elif name == "mode":  # ESC ! n: print mode (font, bold, double h/w, underline)
                self.style["bold"] = bool(n & 0x08)
                self.style["size"] = (2 if n & 0x20 else 1, 2 if n & 0x10 else 1)
                self._cmd("mode", n=n)
            else:
                self._cmd(name, n=n)
            return pos + 3
        self._cmd("unknown", bytes=buf[pos:pos + 2].hex())
        return pos + 2

    def _gs(self, buf: bytes, pos: int) -> int:
        self._need(buf, pos + 2)
        c = buf[pos + 1]
        if c == 0x56:  # GS V m [n]
            self._need(buf, pos + 3)
            m = buf[pos + 2]
            if m in (0, 1, 48, 49):
                self._cmd("cut", mode="full" if m in (0, 48) else "partial")
                return pos + 3
            self._need(buf, pos + 4)
            self._cmd("cut", mode="full" if m in (65, 97) else "partial", feed=buf[pos + 3])
            return pos + 4
        if c == 0x21:
            self._need(buf, pos + 3)
            n = buf[pos + 2]
            self.style["size"] = ((n >> 4) + 1, (n & 0x0F) + 1)
            self._cmd("size", width=self.style["size"][0], height=self.style["size"][1])
            return pos + 3
        if c == 0x42:
            self._need(buf, pos + 3)
            self.style["invert"] = bool(buf[pos + 2] & 1)
            self._cmd("invert", on=self.style["invert"])
            return pos + 3
        if c in (0x68, 0x77, 0x48, 0x66, 0x62, 0x4C, 0x57, 0x49, 0x72, 0x61):
            self._need(buf, pos + 3)
            names = {0x68: "barcode_height", 0x77: "barcode_width", 0x48: "barcode_hri",
                     0x66: "barcode_font", 0x62: "smoothing", 0x49: "printer_id",
                     0x72: "status_query_gs", 0x61: "asb"}
            if c in (0x4C, 0x57):  # GS L / GS W nL nH
                self._need(buf, pos + 4)
                self._cmd("margin" if c == 0x4C else "print_width")
                return pos + 4
            self._cmd(names[c], n=buf[pos + 2])
            return pos + 3
        if c == 0x6B:  # GS k
            self._need(buf, pos + 3)
            m = buf[pos + 2]
            if m <= 6:
                end = buf.find(b"\x00", pos + 3)
                if end < 0:
                    raise Incomplete
                data = buf[pos + 3:end]
                self._cmd("barcode", type=HRI_A_TYPES.get(m, str(m)),
                          data=data.decode("ascii", "replace"))
                return end + 1
            self._need(buf, pos + 4)
            n = buf[pos + 3]
            self._need(buf, pos + 4 + n)
            data = buf[pos + 4:pos + 4 + n]
            text = data.decode("ascii", "replace")
            btype = HRI_B_TYPES.get(m, str(m))
            if btype == "CODE128" and text[:1] == "{" and len(text) > 1:
                text = text[2:]  # drop the code set selector ({A, {B or {C)
            self._cmd("barcode", type=btype, data=text)
            return pos + 4 + n
        if c == 0x28:  # GS ( x pL pH ...
            self._need(buf, pos + 5)
            kind = buf[pos + 2]
            length = buf[pos + 3] | buf[pos + 4] << 8
            self._need(buf, pos + 5 + length)
            body = buf[pos + 5:pos + 5 + length]
            if kind == 0x6B and len(body) >= 2 and body[0] == 49:  # QR code
                fn = body[1]
                if fn == 80:
                    self._qr_data = body[3:]
                elif fn == 81:
                    self._cmd("qr", data=self._qr_data.decode("utf-8", "replace"))
            elif kind == 0x6B:
                self._cmd("2d_code", cn=body[0] if body else None)
            elif kind == 0x4C:
                self._cmd("graphics", fn=body[1] if len(body) > 1 else None)
            else:
                self._cmd("gs_paren", kind=chr(kind))
            return pos + 5 + length
        if c == 0x76:  # GS v 0 m xL xH yL yH d...
            self._need(buf, pos + 8)
            width_bytes = buf[pos + 4] | buf[pos + 5] << 8
            height = buf[pos + 6] | buf[pos + 7] << 8
            self._need(buf, pos + 8 + width_bytes * height)
            self._cmd("image", width=width_bytes * 8, height=height)
            return pos + 8 + width_bytes * height
        self._cmd("unknown", bytes=buf[pos:pos + 2].hex())
        return pos + 2


def decode(data: bytes) -> Decoded:
    """Decode a complete ESC/POS stream."""
    d = Decoder()
    d.feed(data)
    if d.pending:
        d.result.commands.append({"cmd": "truncated", "bytes": len(d.pending)})
    return d.result
