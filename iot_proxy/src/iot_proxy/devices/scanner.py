"""Serial barcode scanners (pyserial). Each scan is pushed as ``{"type": "scan"}``.

The worker keeps the port open, splits the stream on the configured suffix
(or, with an empty suffix, on a short silence) and reopens the port when the
scanner is unplugged and plugged back in. Keyboard-wedge (HID) scanners need
no proxy at all: see the README.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..config import ScannerConfig
from ..events import EventHub
from .base import Device

log = logging.getLogger(__name__)
MAX_CODE = 512


class ScannerDevice(Device):
    kind = "scanner"

    def __init__(self, cfg: ScannerConfig, hub: EventHub) -> None:
        super().__init__(cfg.name, cfg.transport, hub)
        self.cfg = cfg
        self._port: Any = None
        self._buf = b""
        self._last_data = 0.0
        self._suffix = cfg.suffix.encode(cfg.encoding) if cfg.suffix else b""
        self._status.update(port=cfg.port, scans=0, last_scan=None)

    @classmethod
    def is_usable(cls, transport: str) -> bool:
        if transport == "dummy":
            return True
        try:
            import serial  # noqa: F401
        except ImportError:
            return False
        return True

    def start(self) -> None:
        if self.transport == "dummy":
            self.set_status(connected=True)
        super().start()

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except Exception:  # pragma: no cover
                pass
            self._port = None

    def work(self) -> None:
        if self.transport == "dummy":
            self.wait(1.0)
            return
        import serial

        if self._port is None:
            try:
                self._port = serial.Serial(self.cfg.port, self.cfg.baudrate, timeout=0.1)
            except (serial.SerialException, OSError, ValueError) as exc:
                self.set_status(connected=False, error=f"cannot open {self.cfg.port}: {exc}")
                self.wait(self.cfg.reconnect_interval)
                return
            self._buf = b""
            self.set_status(connected=True, error=None)
            log.info("scanner %s: listening on %s", self.name, self.cfg.port)
        try:
            data = self._port.read(256)
        except (serial.SerialException, OSError) as exc:
            self.close()
            self.set_status(connected=False, error=f"{self.cfg.port} disconnected: {exc}")
            self.wait(self.cfg.reconnect_interval)
            return
        now = time.monotonic()
        if data:
            self._buf += data
            self._last_data = now
            self._split()
        elif self._buf and not self._suffix and now - self._last_data >= self.cfg.idle_timeout:
            code, self._buf = self._buf, b""
            self._emit(code)

    def _split(self) -> None:
        if self._suffix:
            while self._suffix in self._buf:
                code, self._buf = self._buf.split(self._suffix, 1)
                self._emit(code)
        if len(self._buf) > MAX_CODE:
            log.warning("scanner %s: dropping %d bytes without suffix", self.name, len(self._buf))
            self._buf = b""

    def _emit(self, raw: bytes) -> None:
        code = raw.decode(self.cfg.encoding, errors="replace").strip("\r\n\x00")
        if self.cfg.prefix and code.startswith(self.cfg.prefix):
            code = code[len(self.cfg.prefix):]
        if code:
            self.inject(code)

    def inject(self, code: str) -> None:
        """Publish one scan (also how the dummy scanner is driven)."""
        self.set_status(scans=int(self._status.get("scans") or 0) + 1, last_scan=code)
        self.hub.publish({"type": "scan", "scanner": self.name, "data": code})
