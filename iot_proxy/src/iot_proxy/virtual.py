"""Virtual devices for tests and demos.

* :class:`VirtualPrinter` listens on TCP like a network receipt printer (raw
  port 9100), answers DLE EOT status queries from a simulated state (online,
  paper, cover, drawer sensor) and decodes every job into text + commands.
* :class:`SerialPrinterEmulator` does the same on one end of a serial line
  (e.g. a ``socat`` pty pair).
* :class:`LineDisplayEmulator` keeps the screen of a 2×20 ESC/POS display.

A job counts as printed once the printer has answered a status query after it
(that is how the proxy confirms delivery) or the connection closed cleanly;
bytes not yet confirmed when the printer is "powered off" are lost, like on a
real printer.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .escpos_decode import Decoded, Decoder, codec_for_table, decode


@dataclass
class VirtualJob:
    raw: bytes
    decoded: Decoded

    @property
    def text(self) -> str:
        return self.decoded.text

    @property
    def commands(self) -> list[dict[str, Any]]:
        return self.decoded.commands

    def summary(self) -> str:
        skip = {"align", "size", "barcode_height", "barcode_width", "barcode_font",
                "barcode_hri", "feed", "init", "mode", "font", "underline", "invert",
                "status_query", "upside_down", "smoothing"}
        lines = []
        for c in self.commands:
            if c["cmd"] in skip:
                continue
            args = " ".join(f"{k}={v}" for k, v in c.items() if k != "cmd")
            lines.append(f"[{c['cmd']}{' ' + args if args else ''}]")
        return "\n".join(lines)


@dataclass
class PrinterState:
    online: bool = True
    paper: str = "ok"  # ok | near_end | out
    cover_open: bool = False
    drawer_pin3_high: bool = False

    def answer(self, n: int) -> int:
        offline = not self.online or self.paper == "out" or self.cover_open
        if n == 1:
            return 0x12 | (0x08 if offline else 0) | (0x04 if self.drawer_pin3_high else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 4:
            near = self.paper in ("near_end", "out")
            return 0x12 | (0x0C if near else 0) | (0x60 if self.paper == "out" else 0)
        return 0x12


def _only_status_queries(chunk: bytes) -> bool:
    return len(chunk) % 3 == 0 and all(
        chunk[i:i + 2] == b"\x10\x04" for i in range(0, len(chunk), 3))


class _Session:
    """One connection: decode, answer status queries, commit confirmed jobs."""

    def __init__(self, owner: _EmulatorBase) -> None:
        self.owner = owner
        self.decoder = Decoder()
        self.raw = b""
        self.committed = 0
        self.has_data = False

    def feed(self, chunk: bytes) -> bytes:
        self.raw += chunk
        if not _only_status_queries(chunk):
            self.has_data = True
        queries = self.decoder.feed(chunk)
        if not queries:
            return b""
        consumed = len(self.raw) - len(self.decoder.pending)
        with self.owner.lock:
            self._commit(consumed)
            return bytes(self.owner.state.answer(n) for n in queries)

    def close(self) -> None:
        with self.owner.lock:
            self._commit(len(self.raw))

    def _commit(self, upto: int) -> None:
        segment = self.raw[self.committed:upto]
        self.committed = upto
        decoded = decode(segment)
        # Status queries are transport chatter, not part of what gets printed.
        decoded.commands = [c for c in decoded.commands if c["cmd"] != "status_query"]
        if decoded.commands or decoded.text:
            self.owner._record(VirtualJob(segment, decoded))


class _EmulatorBase:
    def __init__(self, on_job: Callable[[VirtualJob], None] | None = None) -> None:
        self.lock = threading.RLock()
        self.state = PrinterState()
        self.jobs: list[VirtualJob] = []
        self.on_job = on_job
        self._changed = threading.Condition(self.lock)

    def _record(self, job: VirtualJob) -> None:
        self.jobs.append(job)
        self._changed.notify_all()
        if self.on_job is not None:
            self.on_job(job)

    def set_state(self, **changes: Any) -> None:
        with self.lock:
            for k, v in changes.items():
                setattr(self.state, k, v)

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[VirtualJob]:
        """Block until at least ``count`` jobs were printed; returns them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.jobs) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.jobs)} job(s) printed, expected {count}")
                self._changed.wait(left)
            return list(self.jobs)


class VirtualPrinter(_EmulatorBase):
    """A network ESC/POS printer on ``host:port`` (port 0 picks a free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 on_job: Callable[[VirtualJob], None] | None = None) -> None:
        super().__init__(on_job)
        self.host = host
        self.port = port
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._running = False
        #: Number of upcoming jobs during which the printer "loses power" mid-stream.
        self.drop_next = 0
        #: Busy printing a long job: takes its bytes but leaves the status query that
        #: follows them unanswered (the sender cannot know yet that it printed).
        self.stall = False
        #: Bytes received so far (status queries included).
        self.received = 0

    def start(self) -> VirtualPrinter:
        """Power on (again, on the same port if it had one)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(8)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._running = True
        t = threading.Thread(target=self._accept, args=(sock,), daemon=True,
                             name=f"virtual-printer:{self.port}")
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        """Power off: refuse connections, drop open ones and their unconfirmed bytes."""
        with self.lock:
            self._running = False
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(2.0)
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self, sock: socket.socket) -> None:
        while self._running:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                if not self._running:
                    conn.close()
                    return
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        session = _Session(self)
        clean = False
        try:
            conn.settimeout(30)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    clean = True
                    break
                with self.lock:
                    if not self._running:
                        break
                    self.received += len(chunk)
                    if self.drop_next > 0 and not _only_status_queries(chunk):
                        self.drop_next -= 1
                        break  # power lost mid-job: nothing of it is confirmed
                    answer = session.feed(chunk)
                    if answer and not (self.stall and session.has_data):
                        conn.sendall(answer)  # (stalled: still printing, no answer yet)
        except OSError:
            pass
        finally:
            with self.lock:
                if clean and self._running:
                    session.close()
                self._conns.discard(conn)
            conn.close()


class SerialPrinterEmulator(_EmulatorBase):
    """An ESC/POS printer on a serial device (the far end of a pty pair)."""

    def __init__(self, devfile: str, baudrate: int = 9600,
                 on_job: Callable[[VirtualJob], None] | None = None) -> None:
        super().__init__(on_job)
        import serial

        self._serial = serial.Serial(devfile, baudrate, timeout=0.05)
        self._running = True
        self._session = _Session(self)
        self._idle_commit = 0.3
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        last = time.monotonic()
        while self._running:
            try:
                chunk = self._serial.read(4096)
            except Exception:
                return
            if chunk:
                answer = self._session.feed(chunk)
                if answer:
                    self._serial.write(answer)
                last = time.monotonic()
            elif time.monotonic() - last > self._idle_commit:
                # A serial line has no "close": commit what arrived after a pause.
                self._session.close()
                last = time.monotonic()

    def close(self) -> None:
        self._running = False
        self._thread.join(2.0)
        self._serial.close()


class LineDisplayEmulator:
    """Screen model of an ESC/POS customer display (ESC @, FF, VT, US $ x y, ESC t n)."""

    def __init__(self, columns: int = 20, rows: int = 2) -> None:
        self.columns, self.rows = columns, rows
        self.codec = "cp437"
        self.screen = [[" "] * columns for _ in range(rows)]
        self.x = self.y = 0
        self._pending = b""

    @property
    def lines(self) -> list[str]:
        return ["".join(r) for r in self.screen]

    def feed(self, data: bytes) -> None:
        buf = self._pending + data
        i = 0
        while i < len(buf):
            b = buf[i]
            if b == 0x1B:
                if i + 1 >= len(buf):
                    break
                if buf[i + 1] == 0x40:
                    self._clear()
                    i += 2
                    continue
                if i + 2 >= len(buf):
                    break
                if buf[i + 1] == 0x74:
                    self.codec = codec_for_table(buf[i + 2])
                i += 3  # ESC t n and other one-argument commands
                continue
            if b == 0x1F:
                if i + 1 >= len(buf):
                    break
                if buf[i + 1] == 0x24:
                    if i + 3 >= len(buf):
                        break
                    self.x, self.y = buf[i + 2] - 1, buf[i + 3] - 1
                    i += 4
                    continue
                i += 2
                continue
            if b == 0x0C:
                self._clear()
            elif b == 0x0B:
                self.x = self.y = 0
            elif b >= 0x20:
                ch = bytes([b]).decode(self.codec, errors="replace")
                if 0 <= self.y < self.rows and 0 <= self.x < self.columns:
                    self.screen[self.y][self.x] = ch
                self.x += 1
                if self.x >= self.columns:
                    self.x = 0
                    self.y = min(self.y + 1, self.rows - 1)
            i += 1
        self._pending = buf[i:]

    def _clear(self) -> None:
        self.screen = [[" "] * self.columns for _ in range(self.rows)]
        self.x = self.y = 0


def run_virtual_printer(host: str, port: int, paper: str = "ok", cover_open: bool = False,
                        offline: bool = False) -> None:
    """The ``iot-proxy virtual-printer`` command: print decoded jobs until Ctrl-C."""

    def show(job: VirtualJob) -> None:
        n = len(printer.jobs)
        print(f"----- job {n} ({len(job.raw)} bytes) -----")
        print(job.text.rstrip("\n"))
        if job.summary():
            print(job.summary())
        print(flush=True)

    # Ctrl-C stops it even when it was started from a script in the
    # background, which the shell starts with SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    printer = VirtualPrinter(host, port, on_job=show)
    printer.set_state(paper=paper, cover_open=cover_open, online=not offline)
    printer.start()
    try:
        # Inside the try: Ctrl-C may come as soon as this line is read
        print(f"virtual printer listening on {host}:{printer.port} (Ctrl-C to stop)",
              flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        printer.stop()


__all__ = ["LineDisplayEmulator", "PrinterState", "SerialPrinterEmulator", "VirtualJob",
           "VirtualPrinter", "decode", "run_virtual_printer"]
