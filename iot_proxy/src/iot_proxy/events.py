"""Fan-out of device events (scans, job status, device status) to WebSocket clients."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Listener = Callable[[dict[str, Any]], None]


class EventHub:
    """Device threads publish; the asyncio loop delivers to subscribers."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._listeners: list[Listener] = []
        self._queue_size = queue_size

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def detach(self) -> None:
        self._loop = None

    def publish(self, event: dict[str, Any]) -> None:
        """Thread-safe; events published before the loop is attached are dropped."""
        event.setdefault("ts", time.time())
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._dispatch, event)
        except RuntimeError:  # loop closing
            pass

    def _dispatch(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # pragma: no cover - defensive
                log.exception("event listener failed")
        for q in list(self._queues):
            if q.full():
                # A stalled client must not grow memory without bound: drop its oldest.
                q.get_nowait()
            q.put_nowait(event)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.discard(q)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)
