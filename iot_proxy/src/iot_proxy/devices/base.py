"""The small abstract base every device backend shares.

A device owns one worker thread, a queue of commands run on that thread (so a
device is only ever touched by one thread) and a status dict that is published
as a ``{"type": "device"}`` event whenever it changes.
"""

from __future__ import annotations

import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ClassVar

from ..events import EventHub

log = logging.getLogger(__name__)


class Device(ABC):
    kind: ClassVar[str] = "device"

    def __init__(self, name: str, transport: str, hub: EventHub) -> None:
        self.name = name
        self.transport = transport
        self.hub = hub
        self._status: dict[str, Any] = {"connected": None, "error": None}
        self._status_lock = threading.Lock()
        self._commands: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- dependency check -------------------------------------------------------
    @classmethod
    @abstractmethod
    def is_usable(cls, transport: str) -> bool:
        """True when the optional dependency for ``transport`` is installed."""

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        if not self.is_usable(self.transport):
            self.set_status(connected=False, error=(
                f"transport {self.transport!r} needs an optional dependency: "
                f"pip install 'retail-iot-proxy[{self.transport}]'"))
            return
        self._thread = threading.Thread(target=self._main, name=f"{self.kind}:{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.close()
        while True:
            try:
                _fn, fut = self._commands.get_nowait()
            except queue.Empty:
                break
            fut.cancel()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the transport (called after the worker stopped)."""

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _main(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_commands()
                self.work()
            except Exception:  # never let a device kill its worker
                log.exception("%s %s: worker error", self.kind, self.name)
                self._stopping.wait(1.0)

    def wait(self, timeout: float | None) -> None:
        """Sleep until woken (a new command or job) or the timeout passes."""
        if self._commands.empty():
            self._wake.wait(timeout)
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    @abstractmethod
    def work(self) -> None:
        """One step of the worker loop; it must return within about a second when idle."""

    # -- commands ---------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the device thread; the future carries its result."""
        fut: Future[Any] = Future()
        if self._thread is None or not self._thread.is_alive():
            fut.set_exception(RuntimeError(
                self._status.get("error") or f"{self.kind} {self.name} is not running"))
            return fut
        self._commands.put((fn, fut))
        self._wake.set()
        return fut

    def run_commands(self) -> None:
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue  # the caller gave up waiting: do not act late
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

    # -- status -----------------------------------------------------------------------
    def set_status(self, **changes: Any) -> None:
        with self._status_lock:
            changed = any(self._status.get(k, object()) != v for k, v in changes.items())
            self._status.update(changes)
            snapshot = dict(self._status)
        if changed:
            self.hub.publish({"type": "device", "kind": self.kind, "name": self.name,
                              "status": snapshot})

    def status(self) -> dict[str, Any]:
        with self._status_lock:
            snapshot = dict(self._status)
        return {"name": self.name, "kind": self.kind, "transport": self.transport,
                "usable": self.is_usable(self.transport), **snapshot}
