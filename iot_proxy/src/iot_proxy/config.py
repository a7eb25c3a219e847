"""Configuration: a TOML file (see packaging/iot-proxy.example.toml)."""

from __future__ import annotations

import ipaddress
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ORIGIN_RE = re.compile(r"^https?://[^/\s*]+$")

PRINTER_TRANSPORTS = ("network", "usb", "serial", "file", "dummy")
SERIAL_TRANSPORTS = ("serial", "dummy")
PAYMENT_TRANSPORTS = ("virtual",)
VIRTUAL_OUTCOMES = ("approve", "decline", "manual")


def default_data_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "iot-proxy"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "iot-proxy"


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allowed_origins: list[str] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)
    pairing_token: str = ""
    require_token_on_loopback: bool = False


@dataclass
class QueueConfig:
    retry_initial: float = 1.0
    retry_max: float = 30.0
    retention_days: float = 7.0
    poll_interval: float = 15.0
    #: A job interrupted after its bytes started to leave (proxy killed, printer
    #: lost mid-job) may be on paper: "copy" prints it again marked COPY,
    #: "hold" keeps it for the cashier to reprint or cancel.
    interrupted: str = "copy"
    copy_label: str = "COPY"


@dataclass
class PrinterConfig:
    name: str
    transport: str
    host: str = ""
    port: int = 9100
    devfile: str = ""
    baudrate: int = 9600
    usb_vendor: int = 0
    usb_product: int = 0
    usb_in_ep: int = 0x82
    usb_out_ep: int = 0x01
    timeout: float = 5.0
    ack_timeout: float = 30.0
    paper_width: int = 80
    columns: int = 0
    codepage: str = "CP858"
    profile: str = ""
    language: str = "escpos"
    status: bool = True
    native_qr: bool = True
    logo: str = ""
    #: TrueType/OpenType fonts for image lines (text no code page carries), tried in
    #: order before the common installed ones.
    fonts: list[str] = field(default_factory=list)

    @property
    def text_columns(self) -> int:
        if self.columns:
            return self.columns
        return 48 if self.paper_width == 80 else 32

    @property
    def dots(self) -> int:
        return 576 if self.paper_width == 80 else 384


@dataclass
class DrawerConfig:
    name: str
    printer: str
    pin: int = 2
    sensor: str = "none"  # none | open_high | open_low


@dataclass
class ScannerConfig:
    name: str
    transport: str = "serial"
    port: str = ""
    baudrate: int = 9600
    suffix: str = "\r"
    prefix: str = ""
    encoding: str = "utf-8"
    idle_timeout: float = 0.05
    reconnect_interval: float = 1.0


@dataclass
class DisplayConfig:
    name: str
    transport: str = "serial"
    port: str = ""
    baudrate: int = 9600
    columns: int = 20
    rows: int = 2
    codepage: str = "CP858"
    currency_symbol: str = ""


@dataclass
class PaymentTerminalConfig:
    name: str
    transport: str = "virtual"
    #: Seconds a payment may wait for the card before it ends as "timeout".
    timeout: float = 120.0
    #: The virtual terminal: "approve" or "decline" every payment after
    #: ``delay`` seconds, or "manual": wait for POST .../simulate (or the timeout).
    outcome: str = "approve"
    delay: float = 1.0


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    data_dir: Path = field(default_factory=default_data_dir)
    printers: list[PrinterConfig] = field(default_factory=list)
    drawers: list[DrawerConfig] = field(default_factory=list)
    scanners: list[ScannerConfig] = field(default_factory=list)
    displays: list[DisplayConfig] = field(default_factory=list)
    payment_terminals: list[PaymentTerminalConfig] = field(default_factory=list)

    def printer(self, name: str) -> PrinterConfig | None:
        return next((p for p in self.printers if p.name == name), None)


def _check_keys(section: str, data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"[{section}]: unknown key(s): {', '.join(sorted(unknown))}")


def _typed(section: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"[{section}] {key}: expected {kind}, got a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"[{section}] {key}: expected {getattr(kind, '__name__', kind)}, "
                          f"got {type(value).__name__}")
    return value


def _build(cls: type, section: str, data: dict[str, Any]) -> Any:
    fields = cls.__dataclass_fields__
    _check_keys(section, data, set(fields))
    kwargs = {}
    for key, value in data.items():
        ftype = fields[key].type
        kind: type | tuple[type, ...] = {
            "str": str, "int": int, "float": float, "bool": bool, "list[str]": list,
        }.get(str(ftype), object)
        kwargs[key] = _typed(section, key, value, kind)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"[{section}]: {exc}") from None


def _check_name(section: str, name: str, seen: set[str]) -> None:
    if not NAME_RE.match(name):
        raise ConfigError(f"[{section}] name {name!r}: use letters, digits, '_', '-', '.'")
    if name in seen:
        raise ConfigError(f"[{section}] name {name!r} is used twice")
    seen.add(name)


def parse_config(data: dict[str, Any], base_dir: Path | None = None) -> Config:
    """Build and validate a :class:`Config` from parsed TOML data."""
    _check_keys("top level", data, {
        "server", "queue", "data_dir", "printers", "drawers", "scanners", "displays",
        "payment_terminals",
    })
    cfg = Config()
    cfg.server = _build(ServerConfig, "server", data.get("server", {}))
    cfg.queue = _build(QueueConfig, "queue", data.get("queue", {}))
    if "data_dir" in data:
        path = Path(os.path.expanduser(_typed("top level", "data_dir", data["data_dir"], str)))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        cfg.data_dir = path
    server = cfg.server
    if not 0 <= server.port <= 65535:
        raise ConfigError("[server] port must be from 0 to 65535")
    for origin in server.allowed_origins:
        if not isinstance(origin, str) or not ORIGIN_RE.match(origin):
            raise ConfigError(
                f"[server] allowed_origins: {origin!r} is not an origin like "
                "\"https://pos.example.com\" (no wildcard, no path)")
    if server.host in ("", "*"):
        raise ConfigError("[server] host must be an address; 127.0.0.1 is the default")
    # Listening beyond loopback is allowed only with a pairing token: `serve` creates
    # one in the data directory when none is configured (see server.load_token).
    if cfg.queue.retry_initial <= 0 or cfg.queue.retry_max < cfg.queue.retry_initial:
        raise ConfigError("[queue] need 0 < retry_initial <= retry_max")
    if cfg.queue.interrupted not in ("copy", "hold"):
        raise ConfigError("[queue] interrupted must be \"copy\" (reprint marked COPY) or "
                          "\"hold\" (the cashier confirms)")
    if not 1 <= len(cfg.queue.copy_label) <= 20:
        raise ConfigError("[queue] copy_label must be 1 to 20 characters")

    names: set[str] = set()
    for i, item in enumerate(data.get("printers", [])):
        section = f"printers[{i}]"
        p = _build(PrinterConfig, section, item)
        _check_name(section, p.name, names)
        if p.transport not in PRINTER_TRANSPORTS:
            raise ConfigError(f"[{section}] transport must be one of {PRINTER_TRANSPORTS}")
        if p.transport == "network" and not p.host:
            raise ConfigError(f"[{section}] a network printer needs host (and port, 9100)")
        if p.transport in ("serial", "file") and not p.devfile:
            raise ConfigError(f"[{section}] a {p.transport} printer needs devfile")
        if p.transport == "usb" and not (p.usb_vendor and p.usb_product):
            raise ConfigError(f"[{section}] a usb printer needs usb_vendor and usb_product")
        if p.transport == "file" and "status" not in item:
            p.status = False  # a device file is write-only
        if p.transport == "file" and p.status:
            raise ConfigError(f"[{section}] status cannot be read through a device file")
        if p.paper_width not in (58, 80):
            raise ConfigError(f"[{section}] paper_width must be 58 or 80")
        if p.language not in ("escpos", "zpl"):
            raise ConfigError(f"[{section}] language must be \"escpos\" or \"zpl\"")
        if p.language == "zpl" and "status" not in item:
            p.status = False  # DLE EOT is ESC/POS only
        if p.logo and base_dir is not None and not Path(p.logo).is_absolute():
            p.logo = str(base_dir / p.logo)
        if not all(isinstance(f, str) for f in p.fonts):
            raise ConfigError(f"[{section}] fonts must be a list of font file paths")
        p.fonts = [str(base_dir / f) if base_dir is not None and not Path(f).is_absolute()
                   else f for f in p.fonts]
        cfg.printers.append(p)
    for i, item in enumerate(data.get("drawers", [])):
        section = f"drawers[{i}]"
        d = _build(DrawerConfig, section, item)
        _check_name(section, d.name, names)
        if cfg.printer(d.printer) is None:
            raise ConfigError(f"[{section}] printer {d.printer!r} is not configured")
        if d.pin not in (2, 5):
            raise ConfigError(f"[{section}] pin must be 2 or 5")
        if d.sensor not in ("none", "open_high", "open_low"):
            raise ConfigError(f"[{section}] sensor must be none, open_high or open_low")
        cfg.drawers.append(d)
    for i, item in enumerate(data.get("scanners", [])):
        section = f"scanners[{i}]"
        s = _build(ScannerConfig, section, item)
        _check_name(section, s.name, names)
        if s.transport not in SERIAL_TRANSPORTS:
            raise ConfigError(f"[{section}] transport must be one of {SERIAL_TRANSPORTS}")
        if s.transport == "serial" and not s.port:
            raise ConfigError(f"[{section}] a serial scanner needs port")
        cfg.scanners.append(s)
    for i, item in enumerate(data.get("displays", [])):
        section = f"displays[{i}]"
        d2 = _build(DisplayConfig, section, item)
        _check_name(section, d2.name, names)
        if d2.transport not in SERIAL_TRANSPORTS:
            raise ConfigError(f"[{section}] transport must be one of {SERIAL_TRANSPORTS}")
        if d2.transport == "serial" and not d2.port:
            raise ConfigError(f"[{section}] a serial display needs port")
        if not (1 <= d2.rows <= 4 and 8 <= d2.columns <= 40):
            raise ConfigError(f"[{section}] rows must be 1-4 and columns 8-40")
        cfg.displays.append(d2)
    for i, item in enumerate(data.get("payment_terminals", [])):
        section = f"payment_terminals[{i}]"
        t = _build(PaymentTerminalConfig, section, item)
        _check_name(section, t.name, names)
        if t.transport not in PAYMENT_TRANSPORTS:
            raise ConfigError(f"[{section}] transport must be one of {PAYMENT_TRANSPORTS}")
        if not 1 <= t.timeout <= 600:
            raise ConfigError(f"[{section}] timeout must be 1 to 600 seconds")
        if t.outcome not in VIRTUAL_OUTCOMES:
            raise ConfigError(f"[{section}] outcome must be one of {VIRTUAL_OUTCOMES}")
        if not 0 <= t.delay <= 60:
            raise ConfigError(f"[{section}] delay must be 0 to 60 seconds")
        cfg.payment_terminals.append(t)
    return cfg


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Load the config file; ``None`` gives the defaults (no devices)."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    return parse_config(data, base_dir=p.resolve().parent)
