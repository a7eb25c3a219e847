"""The HTTP + WebSocket service (aiohttp)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from . import __version__
from .config import Config, is_loopback_host
from .devices import (
    DisplayDevice, DrawerDevice, PaymentTerminalDevice, PrinterDevice,
    ScannerDevice)
from .devices.display import compose
from .devices.payment import PaymentBusy, PaymentConflict, PaymentFinal
from .devices.printer import describe
from .errors import ValidationError
from .events import EventHub
from .jobstore import JobConflict, JobStore
from .receipt import (
    parse_labels, parse_raw, parse_receipt, parse_zpl, render_labels_escpos,
    render_labels_zpl, render_receipt)

log = logging.getLogger(__name__)
JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_WAIT = 30.0
COMMAND_TIMEOUT_MARGIN = 5.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Proxy:
    """The devices, the job store and the event hub of one running proxy."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.hub = EventHub()
        self.store: JobStore | None = None
        self.printers: dict[str, PrinterDevice] = {}
        self.drawers: dict[str, DrawerDevice] = {}
        self.scanners: dict[str, ScannerDevice] = {}
        self.displays: dict[str, DisplayDevice] = {}
        self.payment_terminals: dict[str, PaymentTerminalDevice] = {}

    def start(self) -> None:
        cfg = self.config
        self.store = JobStore(Path(cfg.data_dir) / "jobs.sqlite3")
        recovered = self.store.recover(cfg.queue.interrupted)
        for job in recovered:
            log.warning("job %s was printing when the proxy stopped: %s", job.job_id,
                        job.message)
            self.hub.publish({"type": "job", **job.public()})
        self.store.purge(cfg.queue.retention_days)
        for p in cfg.printers:
            self.printers[p.name] = PrinterDevice(p, self.store, self.hub, cfg.queue)
        for d in cfg.drawers:
            self.drawers[d.name] = DrawerDevice(d, self.printers[d.printer], self.hub)
        for s in cfg.scanners:
            self.scanners[s.name] = ScannerDevice(s, self.hub)
        for disp in cfg.displays:
            self.displays[disp.name] = DisplayDevice(disp, self.hub)
        for term in cfg.payment_terminals:
            self.payment_terminals[term.name] = PaymentTerminalDevice(term, self.hub)
        for dev in self.devices():
            dev.start()

    def devices(self) -> list[Any]:
        return [*self.printers.values(), *self.drawers.values(), *self.scanners.values(),
                *self.displays.values(), *self.payment_terminals.values()]

    def stop(self) -> None:
        for dev in self.devices():
            dev.stop()
        if self.store is not None:
            self.store.close()

    def snapshot(self) -> dict[str, Any]:
        return {
            "printers": {n: d.status() for n, d in self.printers.items()},
            "drawers": {n: d.status() for n, d in self.drawers.items()},
            "scanners": {n: d.status() for n, d in self.scanners.items()},
            "displays": {n: d.status() for n, d in self.displays.items()},
            "payment_terminals": {n: d.status() for n, d in self.payment_terminals.items()},
        }


# -- helpers -----------------------------------------------------------------------
def reply(ok: bool, message: str, http_status: int = 200, can_retry: bool = False,
          **extra: Any) -> web.Response:
    return web.json_response({"ok": ok, "canRetry": can_retry, "message": message, **extra},
                             status=http_status)


def load_token(config: Config, create: bool = False) -> str:
    """The pairing token: from the config, else the data directory (created on demand)."""
    if config.server.pairing_token:
        return config.server.pairing_token
    path = Path(config.data_dir) / "pairing-token"
    if path.exists():
        return path.read_text().strip()
    if not create:
        return ""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


def _is_loopback_peer(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1:].split("]")[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


MAX_JSON_DEPTH = 32


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (brackets inside strings
    do not count); checked before parsing, so no input can exhaust the stack."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


async def read_json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    if json_depth_exceeds(raw):
        raise ValidationError(f"body is not valid JSON: nested deeper than {MAX_JSON_DEPTH} "
                              "levels")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise ValidationError(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValidationError("body must be a JSON object")
    return body


def _device(table: dict[str, Any], kind: str, name: str) -> Any:
    dev = table.get(name)
    if dev is None:
        known = ", ".join(sorted(table)) or "none configured"
        raise web.HTTPNotFound(
            text=json.dumps({"ok": False, "canRetry": False,
                             "message": f"unknown {kind} {name!r} (known: {known})"}),
            content_type="application/json")
    return dev


# -- middlewares ----------------------------------------------------------------------
def make_security_middleware(config: Config, token: str) -> Any:
    server = config.server
    allowed_origins = set(server.allowed_origins)
    allowed_hosts = {"127.0.0.1", "localhost", "::1", *server.allowed_hosts}
    if server.host not in ("0.0.0.0", "::"):
        allowed_hosts.add(server.host)

    def cors_headers(origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Allow-Credentials": "false"}

    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and origin not in allowed_origins:
            log.warning("refused origin %s for %s %s", origin, request.method, request.path)
            return reply(False, f"origin {origin!r} is not in allowed_origins", 403)
        given = request.headers.get("X-Pairing-Token", "")
        auth = request.headers.get("Authorization", "")
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given:
            given = request.query.get("token", "")
        token_ok = bool(token) and bool(given) and hmac.compare_digest(given, token)
        trusted = _is_loopback_peer(request.remote) and not server.require_token_on_loopback
        if request.method == "OPTIONS" and origin is not None:
            headers = cors_headers(origin)
            headers.update({
                "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": request.headers.get(
                    "Access-Control-Request-Headers", "Content-Type, Authorization"),
                "Access-Control-Max-Age": "600",
            })
            if request.headers.get("Access-Control-Request-Private-Network") == "true":
                headers["Access-Control-Allow-Private-Network"] = "true"
            return web.Response(status=204, headers=headers)
        if not token_ok:
            if not trusted:
                return reply(False, "pairing token required (Authorization: Bearer <token>, "
                             "X-Pairing-Token header or ?token= for WebSocket)", 401)
            # Loopback without a token: refuse foreign Host names (DNS rebinding).
            if _host_name(request.host) not in allowed_hosts:
                return reply(False, f"host {request.host!r} is not allowed", 403)
        response = await handler(request)
        if origin is not None and not response.prepared:
            response.headers.update(cors_headers(origin))
        return response

    return security


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ValidationError as exc:
        extra = {"field": exc.field} if exc.field else {}
        return reply(False, exc.message, 400, **extra)
    except web.HTTPException as exc:
        if exc.content_type == "application/json":
            raise
        return reply(False, exc.reason or "error", exc.status)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return reply(False, "internal error in the hardware proxy", 500, can_retry=True)


# -- handlers ---------------------------------------------------------------------------
JOB_KEYS = {"job_id", "type", "receipt", "data_base64", "labels", "zpl", "wait"}
PAYMENT_KEYS = {"payment_id", "amount", "currency", "reference", "wait"}
PAYMENT_AMOUNT_RE = re.compile(r"^-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
REFERENCE_RE = re.compile(r"^[^\x00-\x1f\x7f]{0,64}$")
JOB_STATES = ("queued", "printing", "waiting", "held", "done", "cancelled")


def render_job(kind: str, body: dict[str, Any], printer: PrinterDevice) -> bytes:
    cfg = printer.cfg
    needed = {"receipt": "receipt", "raw": "data_base64", "label": "labels", "zpl": "zpl"}
    if kind not in needed:
        raise ValidationError("type must be one of receipt, raw, label, zpl", "type")
    extra = set(body) & (set(needed.values()) - {needed[kind]})
    if extra:
        raise ValidationError(f"{', '.join(sorted(extra))} not expected for type {kind!r}")
    if needed[kind] not in body:
        raise ValidationError(f"{needed[kind]} is required for type {kind!r}", needed[kind])
    if kind in ("receipt",) and cfg.language != "escpos":
        raise ValidationError(f"printer {cfg.name!r} speaks {cfg.language}, not ESC/POS")
    if kind == "zpl" and cfg.language != "zpl":
        raise ValidationError(f"printer {cfg.name!r} speaks ESC/POS; ZPL needs a printer with "
                              "language = \"zpl\"")
    if kind == "receipt":
        return render_receipt(parse_receipt(body["receipt"], cfg), cfg)
    if kind == "raw":
        return parse_raw(body["data_base64"])
    if kind == "zpl":
        return parse_zpl(body["zpl"])
    labels, currency = parse_labels(body["labels"])
    if cfg.language == "zpl":
        return render_labels_zpl(labels, currency)
    return render_labels_escpos(labels, currency, cfg)


def job_reply(job: Any, duplicate: bool, status: int) -> web.Response:
    messages = {"queued": "queued for printing", "printing": "printing", "done": "printed",
                "cancelled": "job was cancelled"}  # waiting, held: the job's own message
    message = messages.get(job.state) or job.message
    if duplicate:
        message = f"job already received ({job.state}); not printed again"
    return reply(job.state != "cancelled", message, status, job_id=job.job_id,
                 status=job.state, duplicate=duplicate, job=job.public())


def parse_wait(body_or_query: Any) -> float:
    wait = body_or_query.get("wait", 0)
    if isinstance(wait, str):
        try:
            wait = float(wait)
        except ValueError:
            wait = None
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not (
            0 <= wait <= MAX_WAIT):
        raise ValidationError(f"wait must be a number of seconds from 0 to {MAX_WAIT:g}",
                              "wait")
    return float(wait)


def payment_reply(payment: Any, status: int = 200, duplicate: bool = False,
                  message: str | None = None) -> web.Response:
    return reply(True, message or payment.message, status, payment=payment.public(),
                 duplicate=duplicate)


class Api:
    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.payment_waiters: dict[tuple[str, str], list[asyncio.Future[None]]] = {}
        self.websockets: set[web.WebSocketResponse] = set()

    @property
    def store(self) -> JobStore:
        assert self.proxy.store is not None
        return self.proxy.store

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "job" and event.get("status") in ("done", "waiting", "held",
                                                                   "cancelled"):
            for fut in self.waiters.pop(event["job_id"], []):
                if not fut.done():
                    fut.set_result(None)
        if event.get("type") == "payment" and event.get("status") != "pending":
            key = (event["terminal"], event["payment_id"])
            for fut in self.payment_waiters.pop(key, []):
                if not fut.done():
                    fut.set_result(None)

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "version": __version__,
                                  "queue": {"pending": self.store.pending_count(),
                                            "held": self.store.held_count(),
                                            "interrupted": self.proxy.config.queue.interrupted},
                                  **self.proxy.snapshot()})

    async def devices(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "devices": [
            d.status() for d in self.proxy.devices()]})

    async def printer_status(self, request: web.Request) -> web.Response:
        printer = _device(self.proxy.printers, "printer", request.match_info["name"])
        if request.query.get("refresh") in ("1", "true"):
            fut = printer.submit(printer.probe)
            try:
                await asyncio.wait_for(asyncio.wrap_future(fut),
                                       printer.cfg.timeout * 3 + COMMAND_TIMEOUT_MARGIN)
            except Exception:
                pass
        return web.json_response({"ok": True, "printer": printer.status()})

    async def post_job(self, request: web.Request) -> web.Response:
        printer = _device(self.proxy.printers, "printer", request.match_info["name"])
        body = await read_json(request)
        unknown = set(body) - JOB_KEYS
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}")
        job_id = body.get("job_id")
        if job_id is None:
            job_id = str(uuid.uuid4())
        elif not isinstance(job_id, str) or not JOB_ID_RE.match(job_id):
            raise ValidationError("job_id must be 1-128 characters: letters, digits, . _ : -",
                                  "job_id")
        wait = body.get("wait", 0)
        if isinstance(wait, bool) or not isinstance(wait, int | float) or not (
                0 <= wait <= MAX_WAIT):
            raise ValidationError(f"wait must be a number of seconds from 0 to {MAX_WAIT:g}",
                                  "wait")
        kind = body.get("type", "receipt")
        if not isinstance(kind, str):
            raise ValidationError("type must be a string", "type")
        data = await asyncio.to_thread(render_job, kind, body, printer)
        content = {k: v for k, v in body.items() if k not in ("wait", "job_id")}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        try:
            job, created = await asyncio.to_thread(self.store.add, job_id, printer.name, kind,
                                                   digest, data)
        except JobConflict:
            return reply(False, f"job_id {job_id!r} was already used for a different job", 409,
                         job_id=job_id)
        except Exception as exc:  # disk full, read-only data dir...
            log.exception("cannot store job")
            return reply(False, f"cannot store the job: {exc}", 503, can_retry=True,
                         job_id=job_id)
        if created:
            self.proxy.hub.publish({"type": "job", **job.public()})
        fut: asyncio.Future[None] | None = None
        if wait and job.state not in ("done", "cancelled", "held"):
            fut = asyncio.get_running_loop().create_future()
            self.waiters.setdefault(job.job_id, []).append(fut)
        if created:
            printer.notify()
        if fut is not None:
            try:
                await asyncio.wait_for(fut, wait)
            except TimeoutError:
                pass
            finally:
                lst = self.waiters.get(job.job_id, [])
                if fut in lst:
                    lst.remove(fut)
                if not lst:
                    self.waiters.pop(job.job_id, None)
            job = self.store.get(job.job_id) or job
        code = 200 if (not created or job.state == "done") else 202
        return job_reply(job, not created, code)

    async def get_job(self, request: web.Request) -> web.Response:
        job = self.store.get(request.match_info["job_id"])
        if job is None:
            return reply(False, "unknown job id", 404)
        return reply(True, job.message or job.state, job_id=job.job_id, status=job.state,
                     job=job.public())

    async def list_jobs(self, request: web.Request) -> web.Response:
        try:
            limit = max(1, min(500, int(request.query.get("limit", "50"))))
        except ValueError:
            raise ValidationError("limit must be an integer", "limit") from None
        state = request.query.get("status")
        if state is not None and state not in JOB_STATES:
            raise ValidationError(f"status must be one of {', '.join(JOB_STATES)}", "status")
        jobs = self.store.list(request.query.get("printer"), limit, state)
        return web.json_response({"ok": True, "jobs": [j.public() for j in jobs]})

    async def reprint_job(self, request: web.Request) -> web.Response:
        """The cashier's answer to a held job: print it again (``{"copy": true}`` marks it
        COPY)."""
        job_id = request.match_info["job_id"]
        body = await read_json(request)
        unknown = set(body) - {"copy"}
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}")
        copy = body.get("copy", False)
        if not isinstance(copy, bool):
            raise ValidationError("copy must be true or false", "copy")
        job, released = await asyncio.to_thread(self.store.release_held, job_id, copy)
        if job is None:
            return reply(False, "unknown job id", 404)
        if not released:
            return reply(False, f"job is {job.state}; only held jobs are reprinted on request",
                         409, job_id=job_id, status=job.state)
        self.proxy.hub.publish({"type": "job", **job.public()})
        printer = self.proxy.printers.get(job.printer)
        if printer is not None:
            printer.notify()
        return reply(True, "queued for printing again", job_id=job_id, status=job.state,
                     job=job.public())

    async def cancel_job(self, request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        job = await asyncio.to_thread(self.store.cancel, job_id)
        if job is None:
            return reply(False, "unknown job id", 404)
        if job.state != "cancelled":
            return reply(False, f"job is {job.state}; only queued, waiting or held jobs can "
                         "be cancelled", 409, job_id=job_id, status=job.state)
        self.proxy.hub.publish({"type": "job", **job.public()})
        return reply(True, "cancelled", job_id=job_id, status=job.state)

    async def _run(self, dev: Any, fn: Callable[[], Any], timeout: float) -> Any:
        fut = dev.submit(fn)
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)

    async def open_drawer(self, request: web.Request) -> web.Response:
        drawer = _device(self.proxy.drawers, "drawer", request.match_info["name"])
        body = await read_json(request)
        unknown = set(body) - {"pin"}
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}")
        pin = body.get("pin", drawer.cfg.pin)
        if pin not in (2, 5) or isinstance(pin, bool):
            raise ValidationError("pin must be 2 or 5", "pin")
        timeout = drawer.printer.cfg.timeout * 2 + COMMAND_TIMEOUT_MARGIN
        try:
            result = await self._run(drawer.printer, lambda: drawer.open(pin), timeout)
        except TimeoutError:
            return reply(False, "printer busy or not answering; drawer not opened", 503,
                         can_retry=True)
        except Exception as exc:
            return reply(False, f"drawer not opened: {drawer.fail(exc)}", 503, can_retry=True)
        return reply(True, "drawer opened", pin=pin, **result)

    async def drawer_status(self, request: web.Request) -> web.Response:
        drawer = _device(self.proxy.drawers, "drawer", request.match_info["name"])
        timeout = drawer.printer.cfg.timeout * 2 + COMMAND_TIMEOUT_MARGIN
        try:
            result = await self._run(drawer.printer, drawer.read, timeout)
        except TimeoutError:
            return reply(False, "printer busy or not answering", 503, can_retry=True)
        except Exception as exc:
            return reply(False, drawer.fail(exc), 503, can_retry=True)
        return reply(True, "ok", drawer=drawer.status(), **result)

    async def post_display(self, request: web.Request) -> web.Response:
        display = _device(self.proxy.displays, "display", request.match_info["name"])
        rows = compose(await read_json(request), display.cfg)
        try:
            await self._run(display, lambda: display.show(rows), 5.0)
        except TimeoutError:
            return reply(False, "display not answering", 503, can_retry=True, lines=rows)
        except Exception as exc:
            return reply(False, f"display unreachable: {exc}", 503, can_retry=True, lines=rows)
        return reply(True, "shown", lines=rows)

    async def get_display(self, request: web.Request) -> web.Response:
        display = _device(self.proxy.displays, "display", request.match_info["name"])
        return web.json_response({"ok": True, "display": display.status()})

    async def get_scanner(self, request: web.Request) -> web.Response:
        scanner = _device(self.proxy.scanners, "scanner", request.match_info["name"])
        return web.json_response({"ok": True, "scanner": scanner.status()})

    async def simulate_scan(self, request: web.Request) -> web.Response:
        scanner = _device(self.proxy.scanners, "scanner", request.match_info["name"])
        if scanner.transport != "dummy":
            return reply(False, "only a dummy scanner accepts simulated scans", 409)
        body = await read_json(request)
        data = body.get("data")
        if not isinstance(data, str) or not data or len(data) > 512:
            raise ValidationError("data must be a non-empty string", "data")
        scanner.inject(data)
        return reply(True, "scan sent")

    # -- payment terminals ---------------------------------------------------------------
    def _terminal(self, request: web.Request) -> PaymentTerminalDevice:
        return _device(self.proxy.payment_terminals, "payment terminal",
                       request.match_info["name"])

    def _payment(self, terminal: PaymentTerminalDevice, request: web.Request) -> Any:
        payment = terminal.get(request.match_info["payment_id"])
        if payment is None:
            raise web.HTTPNotFound(
                text=json.dumps({"ok": False, "canRetry": False,
                                 "message": "unknown payment id"}),
                content_type="application/json")
        return payment

    async def _wait_payment(self, terminal: PaymentTerminalDevice, payment: Any,
                            wait: float) -> Any:
        if not wait or payment.status != "pending":
            return payment
        key = (terminal.name, payment.payment_id)
        fut = asyncio.get_running_loop().create_future()
        self.payment_waiters.setdefault(key, []).append(fut)
        try:
            if payment.status == "pending":  # it may have ended meanwhile
                await asyncio.wait_for(fut, wait)
        except TimeoutError:
            pass
        finally:
            lst = self.payment_waiters.get(key, [])
            if fut in lst:
                lst.remove(fut)
            if not lst:
                self.payment_waiters.pop(key, None)
        return terminal.get(payment.payment_id) or payment

    async def get_terminal(self, request: web.Request) -> web.Response:
        terminal = self._terminal(request)
        return web.json_response({"ok": True, "terminal": terminal.status()})

    async def post_payment(self, request: web.Request) -> web.Response:
        terminal = self._terminal(request)
        body = await read_json(request)
        unknown = set(body) - PAYMENT_KEYS
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}")
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or not JOB_ID_RE.match(payment_id):
            raise ValidationError("payment_id must be 1-128 characters: letters, digits, "
                                  ". _ : -", "payment_id")
        amount = body.get("amount")
        if (not isinstance(amount, str) or not PAYMENT_AMOUNT_RE.match(amount)
                or not amount.strip("-0.")):
            raise ValidationError("amount must be a decimal string, not zero, at most 9 "
                                  "digits and 4 decimals (e.g. \"12.50\"; negative refunds)",
                                  "amount")
        currency = body.get("currency")
        if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
            raise ValidationError("currency must be an ISO 4217 code (e.g. \"EUR\")",
                                  "currency")
        reference = body.get("reference", "")
        if not isinstance(reference, str) or not REFERENCE_RE.match(reference):
            raise ValidationError("reference must be a string of at most 64 printable "
                                  "characters", "reference")
        wait = parse_wait(body)
        try:
            payment, created = terminal.request(payment_id, amount, currency, reference)
        except PaymentConflict:
            return reply(False, f"payment_id {payment_id!r} was already used for a different "
                         "payment", 409, payment_id=payment_id)
        except PaymentBusy as exc:
            return reply(False, f"the terminal is taking payment {exc.payment.payment_id!r}; "
                         "cancel it or wait for its end", 409, can_retry=True,
                         payment=exc.payment.public())
        payment = await self._wait_payment(terminal, payment, wait)
        code = 202 if payment.status == "pending" else 200
        return payment_reply(payment, code, duplicate=not created)

    async def get_payment(self, request: web.Request) -> web.Response:
        terminal = self._terminal(request)
        payment = self._payment(terminal, request)
        payment = await self._wait_payment(terminal, payment, parse_wait(request.query))
        return payment_reply(payment)

    async def cancel_payment(self, request: web.Request) -> web.Response:
        terminal = self._terminal(request)
        payment = self._payment(terminal, request)
        await read_json(request)
        try:
            payment = terminal.cancel(payment.payment_id)
        except PaymentFinal as exc:
            return reply(False, f"payment is {exc.payment.status}; only a pending payment can "
                         "be cancelled", 409, payment=exc.payment.public())
        return payment_reply(payment)

    async def simulate_payment(self, request: web.Request) -> web.Response:
        terminal = self._terminal(request)
        if terminal.transport != "virtual":
            return reply(False, "only a virtual payment terminal accepts simulated cards", 409)
        payment = self._payment(terminal, request)
        body = await read_json(request)
        unknown = set(body) - {"outcome"}
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}")
        outcome = body.get("outcome")
        if outcome not in ("approved", "declined"):
            raise ValidationError("outcome must be \"approved\" or \"declined\"", "outcome")
        try:
            payment = terminal.simulate(payment.payment_id, outcome)
        except PaymentFinal as exc:
            return reply(False, f"payment is {exc.payment.status} already", 409,
                         payment=exc.payment.public())
        return payment_reply(payment)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        hub = self.proxy.hub
        q = hub.subscribe()
        self.websockets.add(ws)

        async def pump() -> None:
            while True:
                event = await q.get()
                await ws.send_json(event)

        sender = asyncio.create_task(pump())
        try:
            await ws.send_json({"type": "hello", "version": __version__,
                                **self.proxy.snapshot()})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = None if json_depth_exceeds(msg.data.encode()) else json.loads(
                        msg.data)
                except (json.JSONDecodeError, RecursionError):
                    data = None
                if isinstance(data, dict) and data.get("type") == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await ws.send_json({"type": "error",
                                        "message": "only {\"type\": \"ping\"} is accepted"})
        finally:
            sender.cancel()
            hub.unsubscribe(q)
            self.websockets.discard(ws)
        return ws


API_KEY = web.AppKey("api", Api)


def create_app(proxy: Proxy, token: str = "") -> web.Application:
    """The aiohttp application; devices start with the app and stop with it."""
    app = web.Application(
        middlewares=[make_security_middleware(proxy.config, token), errors_middleware],
        client_max_size=8 * 1024 * 1024)
    api = Api(proxy)
    app[API_KEY] = api
    r = app.router
    r.add_get("/status", api.status)
    r.add_get("/devices", api.devices)
    r.add_get("/printers/{name}", api.printer_status)
    r.add_post("/printers/{name}/jobs", api.post_job)
    r.add_get("/jobs", api.list_jobs)
    r.add_get("/jobs/{job_id}", api.get_job)
    r.add_delete("/jobs/{job_id}", api.cancel_job)
    r.add_post("/jobs/{job_id}/reprint", api.reprint_job)
    r.add_post("/drawers/{name}/open", api.open_drawer)
    r.add_get("/drawers/{name}", api.drawer_status)
    r.add_post("/displays/{name}", api.post_display)
    r.add_get("/displays/{name}", api.get_display)
    r.add_get("/scanners/{name}", api.get_scanner)
    r.add_post("/scanners/{name}/scan", api.simulate_scan)
    r.add_get("/payment_terminals/{name}", api.get_terminal)
    r.add_post("/payment_terminals/{name}/payments", api.post_payment)
    r.add_get("/payment_terminals/{name}/payments/{payment_id}", api.get_payment)
    r.add_post("/payment_terminals/{name}/payments/{payment_id}/cancel", api.cancel_payment)
    r.add_post("/payment_terminals/{name}/payments/{payment_id}/simulate",
               api.simulate_payment)
    r.add_get("/ws", api.websocket)

    async def on_startup(app: web.Application) -> None:
        proxy.hub.attach(asyncio.get_running_loop())
        proxy.hub.add_listener(api.on_event)
        await asyncio.to_thread(proxy.start)

    async def on_shutdown(app: web.Application) -> None:
        for ws in list(api.websockets):
            await ws.close(message=b"proxy shutting down")

    async def on_cleanup(app: web.Application) -> None:
        await asyncio.to_thread(proxy.stop)
        proxy.hub.detach()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def serve(config: Config, stop: asyncio.Event,
                on_ready: Callable[[str, int], None] | None = None,
                proxy: Proxy | None = None) -> None:
    """Run until ``stop`` is set."""
    needs_token = (not is_loopback_host(config.server.host)
                   or config.server.require_token_on_loopback)
    token = load_token(config, create=needs_token)
    proxy = proxy or Proxy(config)
    app = create_app(proxy, token)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.server.host, config.server.port, reuse_address=True)
        await site.start()
        host, port = runner.addresses[0][:2]
        if on_ready is not None:
            on_ready(str(host), int(port))
        await stop.wait()
    finally:
        await runner.cleanup()


class ServerThread:
    """Run the proxy in a background thread (tests, embedding)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.proxy = Proxy(config)
        self.port = 0
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="iot-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(host: str, port: int) -> None:
                self.port = port
                self._ready.set()

            await serve(self.config, self._stop, ready, self.proxy)

        try:
            asyncio.run(run())
        except BaseException as exc:  # surfaced by start()
            self.error = exc
        finally:
            self._ready.set()

    def start(self, timeout: float = 15.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout) or self.error is not None:
            raise RuntimeError(f"proxy did not start: {self.error!r}")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


__all__ = ["Proxy", "ServerThread", "create_app", "describe", "load_token", "serve"]
