"""Shared fixtures: a proxy in a thread, the virtual printer, socat pty pairs, HTTP/WS helpers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from iot_proxy.config import Config, parse_config
from iot_proxy.server import ServerThread
from iot_proxy.virtual import VirtualPrinter

ORIGIN = "http://pos.test:8000"


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 15.0) -> tuple[int, Any, dict[str, str]]:
    """Plain HTTP call; returns (status, parsed JSON or text, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, payload, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, payload, hdrs = err.code, err.read(), dict(err.headers)
    try:
        return status, json.loads(payload) if payload else None, hdrs
    except json.JSONDecodeError:
        return status, payload.decode(errors="replace"), hdrs


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
               what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def base_config(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "server": {"host": "127.0.0.1", "port": 0, "allowed_origins": [ORIGIN]},
        "queue": {"retry_initial": 0.1, "retry_max": 0.3, "poll_interval": 0},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def network_printer(vp: VirtualPrinter, name: str = "receipt", **extra: Any) -> dict[str, Any]:
    return {"name": name, "transport": "network", "host": "127.0.0.1", "port": vp.port,
            "timeout": 2.0, "ack_timeout": 5.0, **extra}


@pytest.fixture
def vprinter() -> Iterator[VirtualPrinter]:
    vp = VirtualPrinter("127.0.0.1", 0).start()
    yield vp
    vp.stop()


class Servers:
    def __init__(self) -> None:
        self.running: list[ServerThread] = []

    def start(self, data: dict[str, Any] | Config) -> ServerThread:
        cfg = data if isinstance(data, Config) else parse_config(data)
        server = ServerThread(cfg).start()
        self.running.append(server)
        return server

    def stop(self, server: ServerThread) -> None:
        server.stop()
        self.running.remove(server)


@pytest.fixture
def servers() -> Iterator[Servers]:
    s = Servers()
    yield s
    for server in list(s.running):
        server.stop()


class WS:
    """A websocket-client connection with a helper to wait for a matching message."""

    def __init__(self, url: str, origin: str | None = ORIGIN, **kw: Any) -> None:
        self.conn = websocket.create_connection(url, timeout=10, origin=origin,
                                                suppress_origin=origin is None, **kw)
        self.seen: list[dict[str, Any]] = []

    def next(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
             ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.conn.settimeout(max(0.05, deadline - time.monotonic()))
            msg = json.loads(self.conn.recv())
            self.seen.append(msg)
            if predicate(msg):
                return msg
        raise AssertionError(f"no matching WebSocket message; saw {self.seen[-5:]}")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def ws_clients() -> Iterator[Callable[..., WS]]:
    opened: list[WS] = []

    def connect(url: str, **kw: Any) -> WS:
        ws = WS(url, **kw)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        ws.close()


class SocatPair:
    """Two linked ptys made by socat: ``a`` for the proxy, ``b`` for the test's device end."""

    def __init__(self, directory: Path, name: str) -> None:
        self.a = str(directory / f"{name}-a")
        self.b = str(directory / f"{name}-b")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SocatPair:
        for path in (self.a, self.b):
            if os.path.lexists(path):
                os.unlink(path)
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(self.a) and os.path.exists(self.b), 5.0,
                   what="socat ptys")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture
def socat(tmp_path: Path) -> Iterator[Callable[[str], SocatPair]]:
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed (apt-get install socat)")
    pairs: list[SocatPair] = []

    def make(name: str) -> SocatPair:
        pair = SocatPair(tmp_path, name).start()
        pairs.append(pair)
        return pair

    yield make
    for pair in pairs:
        pair.stop()


def receipt(number: str = "S-0001", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "header": {"title": "Test Shop", "lines": ["Main street 1"]},
        "meta": [{"label": "Receipt", "value": number}],
        "lines": [{"name": "Coffee", "quantity": "2", "unit_price": "2.50", "total": "5.00"}],
        "total": "5.00",
        "payments": [{"method": "Cash", "amount": "10.00"}],
        "change": "5.00",
        "barcode": {"type": "CODE128", "data": number},
        "footer": ["Thanks"],
    }
    data.update(overrides)
    return data
