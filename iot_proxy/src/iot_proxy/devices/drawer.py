"""Cash drawers, kicked through the printer they are wired to (pin 2 or 5).

A kick is not queued persistently: a drawer must never pop open minutes later
when a printer comes back. The kick runs on the printer's worker thread (in
order with its jobs) and the caller gets a clear yes or no within seconds.
"""

from __future__ import annotations

from typing import Any

from ..config import DrawerConfig
from ..events import EventHub
from .base import Device
from .printer import PrinterDevice, describe


class DrawerDevice(Device):
    kind = "drawer"

    def __init__(self, cfg: DrawerConfig, printer: PrinterDevice, hub: EventHub) -> None:
        super().__init__(cfg.name, printer.transport, hub)
        self.cfg = cfg
        self.printer = printer
        self._status.update(printer=cfg.printer, pin=cfg.pin, sensor=cfg.sensor, open=None)

    @classmethod
    def is_usable(cls, transport: str) -> bool:
        return PrinterDevice.is_usable(transport)

    def start(self) -> None:
        """A drawer has no thread of its own: it works through its printer's worker."""

    def work(self) -> None:  # pragma: no cover - never started
        self.wait(1.0)

    def _open_from(self, pin3: str | None) -> bool | None:
        if pin3 is None or self.cfg.sensor == "none":
            return None
        return pin3 == ("high" if self.cfg.sensor == "open_high" else "low")

    def open(self, pin: int | None = None) -> dict[str, Any]:
        """Kick the drawer (blocking, run on the printer thread via submit())."""
        result = self.printer.kick_drawer(pin or self.cfg.pin)
        is_open = self._open_from(result["drawer_pin3"])
        self.set_status(connected=True, error=None, open=is_open, last_kick_pin=pin or self.cfg.pin)
        return {"open": is_open, "drawer_pin3": result["drawer_pin3"]}

    def read(self) -> dict[str, Any]:
        pin3 = self.printer.read_drawer()
        is_open = self._open_from(pin3)
        self.set_status(open=is_open, drawer_pin3=pin3)
        return {"open": is_open, "drawer_pin3": pin3,
                "supported": pin3 is not None and self.cfg.sensor != "none"}

    def fail(self, exc: BaseException) -> str:
        message = describe(exc)
        self.set_status(error=message)
        return message
