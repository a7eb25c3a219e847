"""Text on the receipt: code pages the printer is told about, right-to-left scripts
in visual order, and an image line for text no code page can carry.

* Every byte of text is sent in a code page announced with ``ESC t n`` (python-escpos's
  own code-page tables and encoder, :class:`escpos.magicencode.Encoder`). With
  ``AUTO`` each run of text takes the first code page of the printer's profile that
  holds it (python-escpos's search order); python-escpos's own ``MagicEncode``
  sends any text holding a Chinese character as GB18030 bytes *without* announcing
  anything (the printer prints them in its current code page: "Caf¿ª"), so its write
  loop is used here without that shortcut.
* Hebrew and Arabic are stored in logical order; a printer prints bytes left to right.
  Each printed line is put in visual order with python-bidi (the Unicode
  bidirectional algorithm) after Arabic letters are given their joined forms with
  arabic-reshaper, so the printer needs no bidi or shaping of its own.
* Typographic punctuation a code page does not carry (the French apostrophe ’,
  quotes “ ”, dashes – —, narrow and thin spaces) is printed as its plain form
  (' " - and a space), one column for one, so a French or Dutch product name stays
  text rather than turning its whole line into an image.
* A line holding a character that no code page of the printer carries (Chinese,
  Japanese, Korean, emoji...; or, with a fixed code page, anything outside it) is
  printed as a raster image of the same columns, drawn with the first installed font
  that has each glyph (``fonts`` in the printer's configuration, then common fonts).

Columns are display columns: East Asian wide characters take two, combining marks none.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import unicodedata
from collections.abc import Iterable
from typing import Any

from escpos.magicencode import MagicEncode, split_writable_text

log = logging.getLogger(__name__)

#: Searched after the printer's own ``fonts``: monospace first (it matches the
#: printer's columns), then wide-coverage fonts (Debian: fonts-dejavu-core,
#: fonts-droid-fallback, fonts-noto-cjk, fonts-wqy-*; Windows: Consolas, Arial, YaHei).
DEFAULT_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "C:\\Windows\\Fonts\\consola.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
    "C:\\Windows\\Fonts\\msyh.ttc",
)
CELL_WIDTH = 12  # dots per column: 576 dots / 48 columns, 384 / 32 (ESC/POS font A)
CELL_HEIGHT = 24


# -- columns ---------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Display columns of ``text``."""
    return sum(char_width(ch) for ch in text)


def fit(text: str, columns: int) -> str:
    """The longest start of ``text`` that fits in ``columns``."""
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > columns:
            return text[:i]
    return text


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


# -- right-to-left ---------------------------------------------------------------------
def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def visual(text: str) -> str:
    """``text`` (one printed line, logical order) in the order the printer must print it."""
    if not _has_rtl(text):
        return text
    if any(unicodedata.bidirectional(ch) == "AL" for ch in text):
        import arabic_reshaper

        text = arabic_reshaper.reshape(text)
    # python-bidi's pure-Python implementation: its Rust-backed ``bidi.get_display``
    # does not mirror brackets (rule L4), so "(3)" would print as ")3(".
    from bidi.algorithm import get_display

    return str(get_display(text))


# -- code pages --------------------------------------------------------------------------
class AnnouncedEncode(MagicEncode):
    """python-escpos's MagicEncode whose every byte is in a code page announced with
    ESC t: its write loop without the GB18030 shortcut."""

    def write(self, text: str) -> None:
        if self.disabled:
            self.write_with_encoding(self.encoding, text)
            return
        to_write, rest = split_writable_text(self.encoder, text, self.encoding)
        if to_write:
            self.write_with_encoding(self.encoding, to_write)
        while rest:
            encoding = self.encoder.find_suitable_encoding(rest[0])
            if not encoding:
                self._handle_character_failed(rest[0])
                rest = rest[1:]
                continue
            to_write, rest = split_writable_text(self.encoder, rest, encoding)
            if to_write:
                self.write_with_encoding(encoding, to_write)


def use_announced_encoding(p: Any, codepage: str) -> None:
    """Give the python-escpos printer ``p`` the announcing encoder; ``codepage`` is a
    code page name or ``AUTO``."""
    p.magic = AnnouncedEncode(p, encoder=p.magic.encoder)
    if codepage.upper() != "AUTO":
        p.charcode(codepage)  # ESC t n now, and this page only


def carriable(p: Any, text: str) -> bool:
    """Whether every character of ``text`` can be sent in a code page of ``p``: its fixed
    one, or with AUTO any of its profile's."""
    magic = p.magic
    encoder = magic.encoder
    pages = [magic.encoding] if magic.disabled else list(encoder.codepages)
    for ch in text:
        if ord(ch) < 128:
            continue
        if not any(encoder.can_encode(page, ch) for page in pages):
            return False
    return True


#: Typographic punctuation and its plain form of the same width, printed instead
#: when the printer's code page does not carry it (CP858 has none of these).
PLAIN_PUNCTUATION = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2007": " ", "\u2008": " ",
})


def plain_punctuation(p: Any, text: str) -> str:
    """``text`` with the typographic punctuation that no code page of ``p`` carries
    replaced by its plain form (the same columns)."""
    magic = p.magic
    encoder = magic.encoder
    pages = [magic.encoding] if magic.disabled else list(encoder.codepages)
    return "".join(
        ch.translate(PLAIN_PUNCTUATION)
        if ord(ch) >= 128 and not any(encoder.can_encode(page, ch) for page in pages)
        else ch
        for ch in text)


# -- image lines ------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, lazy=True, fontNumber=0)
        return frozenset(font.getBestCmap() or ())
    except Exception as exc:  # an unreadable font is skipped
        log.warning("font %s cannot be read: %s", path, exc)
        return frozenset()


def font_paths(extra: Iterable[str] = ()) -> list[str]:
    """Configured fonts, then the default ones, that exist here."""
    seen: list[str] = []
    for path in [*extra, *DEFAULT_FONTS]:
        if path and path not in seen and os.path.isfile(path):
            seen.append(path)
    return seen


def font_for(ch: str, paths: list[str]) -> str | None:
    """The first font of ``paths`` with a glyph for ``ch``."""
    for path in paths:
        if ord(ch) in _cmap(path):
            return path
    return None


@functools.lru_cache(maxsize=64)
def _font(path: str | None, size: int) -> Any:
    from PIL import ImageFont

    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size, index=0)


def render_line(text: str, fonts: list[str], scale_w: int = 1, scale_h: int = 1,
                bold: bool = False) -> Any:
    """A 1-bit image of one printed line, one cell per column (``text`` in visual
    order): what the printer would print if it had the glyphs."""
    from PIL import Image, ImageDraw

    cell_w, cell_h = CELL_WIDTH * scale_w, CELL_HEIGHT * scale_h
    columns = max(1, width(text))
    img = Image.new("1", ((columns * cell_w + 7) // 8 * 8, cell_h), 1)
    draw = ImageDraw.Draw(img)
    size = int(cell_h * 0.8)
    x = 0
    last = (0, 1)  # x and columns of the previous glyph (combining marks join it)
    missing = set()
    for ch in text:
        w = char_width(ch)
        if ch == " ":
            x += cell_w
            continue
        path = font_for(ch, fonts)
        if path is None:
            missing.add(ch)
        font = _font(path or (fonts[0] if fonts else None), size)
        at, cols = (x, w) if w else last
        limit = cols * cell_w
        advance = font.getlength(ch)
        if advance > limit:  # too wide for its cells: scale it down
            font = _font(path or (fonts[0] if fonts else None),
                         max(6, int(size * limit / advance)))
            advance = font.getlength(ch)
        # The glyph's advance box centred in its cells: joining scripts stay joined.
        gx = at + int((limit - advance) / 2)
        for dx in ((0, 1) if bold else (0,)):
            draw.text((gx + dx, cell_h // 2), ch, font=font, fill=0, anchor="lm")
        if w:
            last = (x, w)
            x += w * cell_w
    if missing:
        log.warning("no installed font has a glyph for %s: install one (e.g. "
                    "fonts-noto-cjk) or list it in the printer's fonts",
                    " ".join(sorted(missing)))
    return img


def print_image_line(p: Any, img: Any) -> None:
    """Send ``img`` as a raster image (GS v 0) with the current alignment."""
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(img, center=False)


class LineWriter:
    """Writes receipt lines to a python-escpos printer: text in announced code pages,
    right-to-left in visual order, image lines for what no code page carries."""

    def __init__(self, p: Any, codepage: str, fonts: Iterable[str] = ()) -> None:
        self.p = p
        use_announced_encoding(p, codepage)
        self.fonts = font_paths(fonts)
        self.scale_w = self.scale_h = 1
        self.bold = False

    def set(self, **style: Any) -> None:
        self.p.set(**style)
        if style.get("normal_textsize"):
            self.scale_w = self.scale_h = 1
        if "double_width" in style:
            self.scale_w = 2 if style["double_width"] else 1
        if "double_height" in style:
            self.scale_h = 2 if style["double_height"] else 1
        if "bold" in style:
            self.bold = bool(style["bold"])

    def set_with_default(self, **style: Any) -> None:
        self.p.set_with_default(**style)
        self.scale_w = self.scale_h = 1
        self.bold = False
        self.set(**style)

    def textln(self, text: str = "") -> None:
        """Print one line, already in visual order (see :func:`visual`)."""
        # Control characters never reach the printer as commands.
        line = "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in text)
        if not carriable(self.p, line):
            line = plain_punctuation(self.p, line)
        if carriable(self.p, line):
            self.p.textln(line)
        else:
            print_image_line(self.p, render_line(line, self.fonts, self.scale_w,
                                                 self.scale_h, self.bold))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.p, name)
