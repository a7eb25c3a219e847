"""ESC/POS (and ZPL) printers: transports from python-escpos, fed from the persistent queue.

Each printer has one worker thread that prints its queued jobs in order. A job
is sent as one stream on a fresh connection; when the transport can be read
(network, USB, serial) the worker asks the printer for its status first
(DLE EOT 1/2/4: online, cover, paper) and sends DLE EOT 1 after the job: the
answer proves the printer received every byte before it. Any failure leaves
the job in the queue ("waiting") and it is retried with a capped backoff; a
job interrupted after its bytes started to leave is printed again marked COPY
or held for the cashier, as ``[queue] interrupted`` says (see jobstore).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..config import PrinterConfig, QueueConfig
from ..errors import DeviceUnavailable
from ..events import EventHub
from ..jobstore import Job, JobStore
from .base import Device

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"


class _Cancelled(Exception):
    pass


class NotReady(DeviceUnavailable):
    """The printer answered but cannot print now (paper out, cover open...)."""


def make_transport(cfg: PrinterConfig) -> Any:
    """The python-escpos printer object for a configured printer (not opened)."""
    from escpos import printer as ep

    profile = cfg.profile or None
    if cfg.transport == "network":
        return ep.Network(cfg.host, cfg.port, timeout=cfg.timeout, profile=profile)
    if cfg.transport == "usb":
        return ep.Usb(cfg.usb_vendor, cfg.usb_product, timeout=int(cfg.ack_timeout * 1000),
                      in_ep=cfg.usb_in_ep, out_ep=cfg.usb_out_ep, profile=profile)
    if cfg.transport == "serial":
        return ep.Serial(cfg.devfile, baudrate=cfg.baudrate, timeout=cfg.timeout,
                         dsrdtr=False, profile=profile)
    if cfg.transport == "file":
        return ep.File(cfg.devfile, profile=profile)
    if cfg.transport == "dummy":
        return ep.Dummy(profile=profile)
    raise ValueError(f"unknown transport {cfg.transport!r}")


def release(p: Any) -> None:
    """Close a python-escpos printer even if its device is already gone."""
    with contextlib.suppress(Exception):
        p.close()
    dev = getattr(p, "_device", None)
    if dev:
        with contextlib.suppress(Exception):
            dev.close()
        p._device = False  # or Escpos.__del__ tries again on a dead device


def parse_status(s1: int, s2: int, s4: int) -> dict[str, Any]:
    """Decode the DLE EOT 1, 2 and 4 answers (fixed bits already checked)."""
    if s4 & 0x60 == 0x60:
        paper = "out"
    elif s4 & 0x0C == 0x0C:
        paper = "near_end"
    else:
        paper = "ok"
    return {
        "online": not s1 & 0x08,
        "drawer_pin3": "high" if s1 & 0x04 else "low",
        "cover_open": bool(s2 & 0x04),
        "paper": "out" if s2 & 0x20 else paper,
        "printer_error": bool(s2 & 0x40),
    }


def not_ready_reason(st: dict[str, Any]) -> str | None:
    if st.get("cover_open"):
        return "printer cover open"
    if st.get("paper") == "out":
        return "printer out of paper"
    if st.get("printer_error"):
        return "printer error (cutter jam or head overheated?)"
    if st.get("online") is False:
        return "printer offline"
    return None


def describe(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    if isinstance(exc, DeviceUnavailable):
        return text
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"printer did not answer in time ({text})"
    return f"printer unreachable: {type(exc).__name__}: {text}"[:300]


class PrinterDevice(Device):
    kind = "printer"

    def __init__(self, cfg: PrinterConfig, store: JobStore, hub: EventHub,
                 queue_cfg: QueueConfig | None = None) -> None:
        super().__init__(cfg.name, cfg.transport, hub)
        self.cfg = cfg
        self.store = store
        self.queue_cfg = queue_cfg or QueueConfig()
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._last_probe = 0.0
        self._last_purge = time.monotonic()
        self.dummy_output: list[bytes] = []
        self._status.update(state="idle", online=None, paper=None, cover_open=None,
                            queue=0, language=cfg.language, paper_width=cfg.paper_width)

    @classmethod
    def is_usable(cls, transport: str) -> bool:
        from escpos import printer as ep

        if transport == "usb":
            return bool(ep.Usb.is_usable())
        if transport == "serial":
            return bool(ep.Serial.is_usable())
        return transport in ("network", "file", "dummy")

    # -- public (any thread) ---------------------------------------------------------
    def notify(self) -> None:
        """A job was queued: try now rather than at the end of the backoff."""
        self._next_attempt = 0.0
        self.wake()

    def status(self) -> dict[str, Any]:
        st = super().status()
        st["queue"] = self.store.pending_count(self.name)
        st["held"] = self.store.held_count(self.name)
        if self.transport == "dummy":
            st["dummy_jobs"] = len(self.dummy_output)
        return st

    # -- worker ------------------------------------------------------------------------
    def work(self) -> None:
        job = self.store.next_pending(self.name)
        if job is None:
            self._status_if_changed(state="idle", queue=0)
            if time.monotonic() - self._last_purge > 3600:
                self._last_purge = time.monotonic()
                self.store.purge(self.queue_cfg.retention_days)
            interval = self.queue_cfg.poll_interval
            self.wait(interval if interval > 0 else 1.0)
            if (interval > 0 and time.monotonic() - self._last_probe >= interval
                    and not self.stopping):
                self.probe()
            return
        now = time.monotonic()
        if now < self._next_attempt:
            self.wait(self._next_attempt - now)
            return
        self._print(job)

    def _status_if_changed(self, **changes: Any) -> None:
        self.set_status(**changes)

    def _publish_job(self, job: Job | None) -> None:
        if job is not None:
            self.hub.publish({"type": "job", **job.public()})

    def job_bytes(self, job: Job) -> bytes:
        """What goes to the printer: the job, after a COPY banner when it is printed
        again after an interruption (ESC/POS printers; ZPL labels are sent unchanged)."""
        if job.copy and self.cfg.language == "escpos":
            from ..receipt import copy_banner

            return copy_banner(self.queue_cfg.copy_label, self.cfg) + job.data
        return job.data

    def _print(self, job: Job) -> None:
        started = False

        def claim() -> None:
            nonlocal started
            # Last moment before bytes leave: a job cancelled meanwhile is not printed.
            claimed = self.store.claim(job.job_id)
            if claimed is None:
                raise _Cancelled
            started = True
            self._publish_job(claimed)
            self.set_status(state="printing", queue=self.store.pending_count(self.name))

        try:
            self.print_now(self.job_bytes(job), before_send=claim)
        except _Cancelled:
            return
        except Exception as exc:
            message = describe(exc)
            self._backoff = min(max(self._backoff * 2, self.queue_cfg.retry_initial),
                                self.queue_cfg.retry_max)
            self._next_attempt = time.monotonic() + self._backoff
            log.warning("printer %s: job %s waits: %s (retry in %.1fs)", self.name,
                        job.job_id, message, self._backoff)
            if started:
                # Some or all of it may be on paper already.
                updated = self.store.interrupt(
                    job.job_id, self.queue_cfg.interrupted,
                    f"printing was interrupted ({message})", attempt=True)
            else:
                updated = self.store.mark(job.job_id, "waiting",
                                          f"{message}; will retry", attempt=True)
            if updated is not None and updated.state in ("waiting", "held"):
                self._publish_job(updated)
            self.set_status(state="waiting", connected=isinstance(exc, NotReady), error=message)
            return
        self._backoff = 0.0
        self._publish_job(self.store.mark(job.job_id, "done", "printed", attempt=True))
        self.set_status(state="idle", connected=True, error=None,
                        queue=self.store.pending_count(self.name))

    def print_now(self, data: bytes, before_send: Callable[[], None] | None = None) -> None:
        """Send one job: status check, the bytes, delivery confirmation (blocking)."""
        with self.session() as p:
            if self.cfg.status:
                st = self.read_status(p)
                reason = not_ready_reason(st)
                if reason:
                    raise NotReady(reason)
            if before_send is not None:
                before_send()
            p._raw(data)
            if self.cfg.status:
                self.confirm(p)
            if self.transport == "dummy":
                self.dummy_output.append(p.output)

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """An open python-escpos printer, closed afterwards whatever happens."""
        p = make_transport(self.cfg)
        try:
            if self.transport != "dummy":
                p.open()
            if self.transport == "network":
                # Long receipts can block sendall while the printer prints.
                p.device.settimeout(self.cfg.ack_timeout)
            elif self.transport == "serial":
                p.device.reset_input_buffer()
            yield p
        finally:
            release(p)

    def _read_byte(self, p: Any, timeout: float) -> int:
        if self.transport == "dummy":
            return 0x12
        dev = p.device
        if self.transport == "network":
            dev.settimeout(timeout)
            try:
                data = dev.recv(1)
            finally:
                dev.settimeout(self.cfg.ack_timeout)
            if not data:
                raise DeviceUnavailable("printer closed the connection")
        elif self.transport == "serial":
            dev.timeout = timeout
            data = dev.read(1)
        elif self.transport == "usb":
            data = bytes(dev.read(p.in_ep, 64, int(timeout * 1000)))
        else:
            raise DeviceUnavailable(f"status cannot be read over {self.transport}")
        if not data:
            raise DeviceUnavailable(
                f"no status answer from the printer within {timeout:g}s "
                "(set status = false for printers that cannot answer)")
        return data[-1]

    def query(self, p: Any, n: int, timeout: float | None = None) -> int:
        if self.transport != "dummy":
            p._raw(DLE_EOT + bytes([n]))
        b = self._read_byte(p, timeout or self.cfg.timeout)
        if b & 0x93 != 0x12:
            raise DeviceUnavailable(f"unexpected status byte 0x{b:02x} from the printer")
        return b

    def read_status(self, p: Any) -> dict[str, Any]:
        st = parse_status(self.query(p, 1), self.query(p, 2), self.query(p, 4))
        self._last_probe = time.monotonic()
        self.set_status(connected=True, error=not_ready_reason(st), **st)
        return st

    def confirm(self, p: Any) -> None:
        """Wait for the printer to acknowledge every byte sent so far."""
        s1 = self.query(p, 1, self.cfg.ack_timeout)
        self.set_status(online=not s1 & 0x08, drawer_pin3="high" if s1 & 0x04 else "low")

    def probe(self) -> dict[str, Any]:
        """Refresh the status (when idle, or on request)."""
        self._last_probe = time.monotonic()
        if self.transport == "file":
            ok = os.path.exists(self.cfg.devfile) and os.access(self.cfg.devfile, os.W_OK)
            self.set_status(connected=ok, online=ok or None,
                            error=None if ok else f"{self.cfg.devfile} is missing or not "
                            "writable")
            return self.status()
        if not self.cfg.status:
            return self.status()
        try:
            with self.session() as p:
                self.read_status(p)
        except Exception as exc:
            self.set_status(connected=False, online=False, error=describe(exc))
        return self.status()

    # -- commands run on the worker thread ------------------------------------------------
    def kick_drawer(self, pin: int) -> dict[str, Any]:
        with self.session() as p:
            p.cashdraw(pin)
            pin3 = None
            if self.cfg.status:
                s1 = self.query(p, 1)
                pin3 = "high" if s1 & 0x04 else "low"
                self.set_status(connected=True, online=not s1 & 0x08, drawer_pin3=pin3)
            if self.transport == "dummy":
                self.dummy_output.append(p.output)
        return {"drawer_pin3": pin3}

    def read_drawer(self) -> str | None:
        if not self.cfg.status:
            return None
        with self.session() as p:
            s1 = self.query(p, 1)
        pin3 = "high" if s1 & 0x04 else "low"
        self.set_status(connected=True, drawer_pin3=pin3)
        return pin3
