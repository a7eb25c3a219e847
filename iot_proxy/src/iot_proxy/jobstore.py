"""The persistent print queue: one SQLite file in the proxy's data directory.

A job is committed (synchronous=FULL) before the HTTP answer says it was
accepted, so an accepted job survives a crash or a restart. Job ids are unique:
the same id sent twice is stored once and printed once.

A job whose printing was interrupted after its bytes started to leave (the
proxy was killed, the printer lost power or the connection) may already be on
paper. What happens next is ``[queue] interrupted`` in the configuration:
``"copy"`` prints it again marked COPY, ``"hold"`` keeps it as ``held`` until
the cashier confirms (reprint) or cancels it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTERRUPTED_MODES = ("copy", "hold")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    printer TEXT NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    data BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    printed REAL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    copy INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (printer, state, seq);
"""


class JobConflict(Exception):
    """The job id exists with different content."""


@dataclass
class Job:
    seq: int
    job_id: str
    printer: str
    kind: str
    digest: str
    data: bytes
    state: str
    attempts: int
    message: str
    created: float
    updated: float
    printed: float | None
    interrupted: int = 0
    copy: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id, "printer": self.printer, "job_type": self.kind,
            "status": self.state, "attempts": self.attempts, "message": self.message,
            "created": self.created, "updated": self.updated, "printed_at": self.printed,
            "bytes": len(self.data), "interrupted": bool(self.interrupted),
            "copy": bool(self.copy),
        }


class JobStore:
    """Thread-safe access to the job table."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column in ("interrupted", "copy"):  # queues made by 0.1.0
            if column not in columns:
                self._db.execute(
                    f"ALTER TABLE jobs ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _row(self, row: tuple[Any, ...] | None) -> Job | None:
        return Job(*row) if row else None

    _COLS = ("seq, job_id, printer, kind, digest, data, state, attempts, message, created, "
             "updated, printed, interrupted, copy")

    def recover(self, mode: str = "copy") -> list[Job]:
        """After a restart: the jobs the proxy was printing when it stopped may be on
        paper already; they are printed again marked COPY, or held (``mode``)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE state='printing' ORDER BY seq").fetchall()
        jobs = []
        for row in rows:
            job = self.interrupt(Job(*row).job_id, mode, "the proxy stopped while printing")
            if job is not None:
                jobs.append(job)
        return jobs

    def interrupt(self, job_id: str, mode: str, reason: str, *,
                  attempt: bool = False) -> Job | None:
        """A job whose bytes had started to go out: reprint it marked COPY or hold it."""
        if mode not in INTERRUPTED_MODES:
            raise ValueError(f"interrupted mode must be one of {INTERRUPTED_MODES}")
        if mode == "copy":
            state, message = "waiting", f"{reason}; it may have printed: printing it again " \
                "marked COPY"
        else:
            state, message = "held", f"{reason}; it may have printed: held until the cashier " \
                "reprints or cancels it"
        now = time.time()
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state=?, message=?, updated=?, interrupted=1, "
                "copy=CASE WHEN ?='copy' THEN 1 ELSE copy END, attempts=attempts+? "
                "WHERE job_id=? AND state IN ('printing', 'queued', 'waiting')",
                (state, message, now, mode, 1 if attempt else 0, job_id))
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone())

    def release_held(self, job_id: str, copy: bool) -> tuple[Job | None, bool]:
        """The cashier confirms a held job: it goes back to the queue (marked COPY or not).
        Returns the job and whether it was held."""
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET state='queued', message='reprint confirmed', updated=?, "
                "copy=? WHERE job_id=? AND state='held'", (now, 1 if copy else 0, job_id))
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone()), \
                cur.rowcount == 1

    def held_count(self, printer: str | None = None) -> int:
        with self._lock:
            if printer is None:
                row = self._db.execute(
                    "SELECT count(*) FROM jobs WHERE state='held'").fetchone()
            else:
                row = self._db.execute(
                    "SELECT count(*) FROM jobs WHERE printer=? AND state='held'",
                    (printer,)).fetchone()
        return int(row[0])

    def add(self, job_id: str, printer: str, kind: str, digest: str,
            data: bytes) -> tuple[Job, bool]:
        """Store a job; returns (job, created). Same id + same digest: the stored job."""
        now = time.time()
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            if row:
                job = self._row(row)
                assert job
                if job.digest != digest or job.printer != printer:
                    raise JobConflict(job_id)
                return job, False
            self._db.execute(
                "INSERT INTO jobs (job_id, printer, kind, digest, data, state, created, updated)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, printer, kind, digest, data, now, now))
            row = self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone()
        job = self._row(row)
        assert job
        return job, True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone())

    def next_pending(self, printer: str) -> Job | None:
        with self._lock:
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE printer=? AND state IN "
                "('queued','printing','waiting') ORDER BY seq LIMIT 1", (printer,)).fetchone())

    def pending_count(self, printer: str | None = None) -> int:
        with self._lock:
            if printer is None:
                row = self._db.execute("SELECT count(*) FROM jobs WHERE state IN "
                                       "('queued','printing','waiting')").fetchone()
            else:
                row = self._db.execute("SELECT count(*) FROM jobs WHERE printer=? AND state IN "
                                       "('queued','printing','waiting')", (printer,)).fetchone()
        return int(row[0])

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM jobs").fetchone()[0])

    def mark(self, job_id: str, state: str, message: str = "", *,
             attempt: bool = False) -> Job | None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state=?, message=?, updated=?, attempts=attempts+?, "
                "printed=CASE WHEN ?='done' THEN ? ELSE printed END "
                "WHERE job_id=? AND state != 'cancelled'",
                (state, message, now, 1 if attempt else 0, state, now, job_id))
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone())

    def claim(self, job_id: str) -> Job | None:
        """Move a queued/waiting job to 'printing'; None if it was cancelled meanwhile."""
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET state='printing', message='printing', updated=? "
                "WHERE job_id=? AND state IN ('queued','waiting','printing')", (now, job_id))
            if cur.rowcount != 1:
                return None
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone())

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job that is not printing now; returns the job as it is now."""
        now = time.time()
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state='cancelled', message='cancelled', updated=? "
                "WHERE job_id=? AND state IN ('queued','waiting','held')", (now, job_id))
            return self._row(self._db.execute(
                f"SELECT {self._COLS} FROM jobs WHERE job_id=?", (job_id,)).fetchone())

    def list(self, printer: str | None = None, limit: int = 50,
             state: str | None = None) -> list[Job]:
        where, args = [], []
        if printer:
            where.append("printer=?")
            args.append(printer)
        if state:
            where.append("state=?")
            args.append(state)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLS} FROM jobs {clause}ORDER BY seq DESC LIMIT ?",
                (*args, limit)).fetchall()
        return [Job(*r) for r in rows]

    def purge(self, older_than_days: float) -> int:
        """Forget finished jobs after the retention period (their ids may then be reused)."""
        cutoff = time.time() - older_than_days * 86400
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM jobs WHERE state IN ('done','cancelled') AND updated < ?", (cutoff,))
            return cur.rowcount
