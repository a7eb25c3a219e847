"""Command line: ``iot-proxy serve | devices | test-print | virtual-printer | token``."""

from __future__ import annotations

import argparse
import asyncio
import glob
import logging
import os
import signal
import sys
from pathlib import Path

from . import __version__
from .config import Config, PrinterConfig, load_config
from .errors import ConfigError, ValidationError


def _load(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("IOT_PROXY_CONFIG")
    cfg = load_config(path)
    if getattr(args, "data_dir", None):
        cfg.data_dir = Path(args.data_dir)
    if getattr(args, "host", None):
        cfg.server.host = args.host
    if getattr(args, "port", None) is not None:
        cfg.server.port = args.port
    return cfg


def cmd_serve(args: argparse.Namespace) -> int:
    from .config import is_loopback_host
    from .server import load_token, serve

    cfg = _load(args)
    if not cfg.server.allowed_origins:
        logging.warning("no allowed_origins configured: browsers will get 403 "
                        "(only non-browser clients on this machine can use the proxy)")
    if not is_loopback_host(cfg.server.host):
        token = load_token(cfg, create=True)
        print(f"listening beyond loopback: clients need the pairing token {token}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows
                pass

        def ready(host: str, port: int) -> None:
            shown = f"[{host}]" if ":" in host else host
            print(f"iot-proxy {__version__} listening on http://{shown}:{port} "
                  f"(data in {cfg.data_dir})", flush=True)

        await serve(cfg, stop, ready)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from .devices import (
        DisplayDevice, PaymentTerminalDevice, PrinterDevice, ScannerDevice)

    cfg = _load(args)
    print("Configured devices:")
    rows: list[tuple[str, str, str, bool]] = []
    for p in cfg.printers:
        where = {"network": f"{p.host}:{p.port}", "usb": f"{p.usb_vendor:04x}:{p.usb_product:04x}",
                 "serial": p.devfile, "file": p.devfile, "dummy": "-"}[p.transport]
        rows.append(("printer", p.name, f"{p.transport} {where}",
                     PrinterDevice.is_usable(p.transport)))
    for d in cfg.drawers:
        rows.append(("drawer", d.name, f"via printer {d.printer}, pin {d.pin}", True))
    for s in cfg.scanners:
        rows.append(("scanner", s.name, f"{s.transport} {s.port}",
                     ScannerDevice.is_usable(s.transport)))
    for disp in cfg.displays:
        rows.append(("display", disp.name, f"{disp.transport} {disp.port}",
                     DisplayDevice.is_usable(disp.transport)))
    for term in cfg.payment_terminals:
        rows.append(("payment", term.name, f"{term.transport} (outcome {term.outcome})",
                     PaymentTerminalDevice.is_usable(term.transport)))
    if not rows:
        print("  (none: pass --config)")
    for kind, name, where, usable in rows:
        note = "" if usable else "  [missing optional dependency]"
        print(f"  {kind:8} {name:16} {where}{note}")
    if args.probe:
        from .events import EventHub
        from .jobstore import JobStore

        store = JobStore(Path(cfg.data_dir) / "jobs.sqlite3")
        for p in cfg.printers:
            dev = PrinterDevice(p, store, EventHub(), cfg.queue)
            st = dev.probe()
            print(f"  probe {p.name}: connected={st.get('connected')} online={st.get('online')} "
                  f"paper={st.get('paper')} cover_open={st.get('cover_open')} "
                  f"error={st.get('error')}")
        store.close()
    print("Detected on this machine:")
    found = False
    for path in sorted(glob.glob("/dev/usb/lp*")):
        print(f"  device file  {path}")
        found = True
    try:
        from serial.tools import list_ports

        for port in list_ports.comports():
            print(f"  serial port  {port.device}  {port.description}")
            found = True
    except ImportError:
        print("  (serial ports: install the 'serial' extra)")
    try:
        import usb.core

        for dev in usb.core.find(find_all=True):
            classes = {i.bInterfaceClass for c in dev for i in c}
            if 7 in classes:  # USB printer class
                print(f"  usb printer  {dev.idVendor:04x}:{dev.idProduct:04x}")
                found = True
    except ImportError:
        print("  (USB printers: install the 'usb' extra)")
    except Exception as exc:  # no libusb backend, permissions...
        print(f"  (USB scan unavailable: {exc})")
    if not found:
        print("  nothing found")
    return 0


def cmd_test_print(args: argparse.Namespace) -> int:
    from .devices import PrinterDevice
    from .devices.printer import describe
    from .events import EventHub
    from .jobstore import JobStore
    from .receipt import parse_receipt, render_receipt, sample_receipt

    cfg = _load(args)
    if args.host:
        pcfg = PrinterConfig(name="test", transport="network", host=args.host,
                             port=args.printer_port)
    else:
        found = cfg.printer(args.printer) if args.printer else (
            cfg.printers[0] if cfg.printers else None)
        if found is None:
            print("no such printer; use --printer NAME with --config, or --host", file=sys.stderr)
            return 2
        pcfg = found
    if pcfg.language != "escpos":
        print(f"printer {pcfg.name} is not an ESC/POS printer", file=sys.stderr)
        return 2
    data = render_receipt(parse_receipt(sample_receipt(), pcfg), pcfg)
    store = JobStore(Path(cfg.data_dir) / "jobs.sqlite3")
    dev = PrinterDevice(pcfg, store, EventHub(), cfg.queue)
    try:
        dev.print_now(data)
        if args.drawer:
            dev.kick_drawer(args.drawer)
    except Exception as exc:
        print(f"test print failed: {describe(exc)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"test receipt sent to {pcfg.name} ({len(data)} bytes)"
          + (f", drawer kicked on pin {args.drawer}" if args.drawer else ""))
    return 0


def cmd_virtual_printer(args: argparse.Namespace) -> int:
    from .virtual import run_virtual_printer

    run_virtual_printer(args.host, args.port, paper=args.paper, cover_open=args.cover_open,
                        offline=args.offline)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from .server import load_token

    cfg = _load(args)
    if cfg.server.pairing_token:
        print(cfg.server.pairing_token)
        return 0
    path = Path(cfg.data_dir) / "pairing-token"
    if args.new and path.exists():
        path.unlink()
    print(load_token(cfg, create=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iot-proxy", description=(
        "Local hardware proxy for the browser POS: receipt printers, cash drawers, "
        "serial scanners and customer displays."))
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", help="TOML config file (default: $IOT_PROXY_CONFIG)")
        p.add_argument("--data-dir", help="where the print queue and token live")

    p = sub.add_parser("serve", help="run the HTTP + WebSocket service")
    with_config(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8070; 0 picks a free one)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("devices", help="list configured and detected devices")
    with_config(p)
    p.add_argument("--probe", action="store_true", help="ask each printer for its status")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("test-print", help="print a sample receipt now (no service needed)")
    with_config(p)
    p.add_argument("--printer", help="configured printer name (default: the first)")
    p.add_argument("--host", help="network printer address instead of a configured one")
    p.add_argument("--printer-port", type=int, default=9100)
    p.add_argument("--drawer", type=int, choices=(2, 5), help="also kick the drawer on pin")
    p.set_defaults(func=cmd_test_print)

    p = sub.add_parser("virtual-printer", help="a fake network printer that shows what it gets")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--paper", choices=("ok", "near_end", "out"), default="ok")
    p.add_argument("--cover-open", action="store_true")
    p.add_argument("--offline", action="store_true")
    p.set_defaults(func=cmd_virtual_printer)

    p = sub.add_parser("token", help="show (or --new: replace) the pairing token")
    with_config(p)
    p.add_argument("--new", action="store_true")
    p.set_defaults(func=cmd_token)
    return parser


def _quiet_escpos(record: logging.LogRecord) -> bool:
    """python-escpos logs every open/close at INFO on the root logger: keep warnings only."""
    return not (record.levelno < logging.WARNING and record.name == "root"
                and f"{os.sep}escpos{os.sep}" in record.pathname)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_escpos)
    try:
        return int(args.func(args))
    except (ConfigError, ValidationError) as exc:
        print(f"iot-proxy: {exc}", file=sys.stderr)
        return 2
