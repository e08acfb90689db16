"""Rate limits shared by every worker process: token buckets in one SQLite file.

Per-process buckets let N workers admit N times the configured rate (and a client that
reconnects lands on another worker with a full bucket). Here every worker reads and
updates the same row in one short transaction (BEGIN IMMEDIATE), so the limit holds
for the whole service — and for several API instances sharing the data directory.

The file holds nothing worth an fsync (synchronous=OFF): after a power cut the worst
case is a refilled bucket. If the file cannot be used (read-only or full data dir, lock
held too long), the check falls back to a per-process bucket for that request and logs
it once: rate limiting must never take the API down.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger("assistant.api")

SCHEMA = "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL)"


class LocalBuckets:
    """Token buckets in this process only (the fallback)."""

    def __init__(self) -> None:
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: str, per_minute: int, now: float) -> float:
        with self.lock:
            tokens, last = self.buckets.get(key, (float(per_minute), now))
            tokens, wait = _take(tokens, last, per_minute, now)
            self.buckets[key] = (tokens, now)
            return wait


def _take(tokens: float, last: float, per_minute: int, now: float) -> tuple[float, float]:
    """Refill since last, take one token: (tokens left, 0) or (tokens, seconds to wait)."""
    rate = per_minute / 60.0
    tokens = min(float(per_minute), tokens + max(0.0, now - last) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


class SharedRateLimiter:
    """check(key, per_minute) → 0 when allowed, else seconds until the next request is."""

    def __init__(self, path: Path, per_minute: int) -> None:
        self.path = Path(path)
        self.per_minute = per_minute
        self.local = LocalBuckets()
        self._tls = threading.local()
        self._warned = False
        self._checks = 0

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._tls, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=0.2, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(SCHEMA)
            self._tls.conn = conn
        return conn

    def check(self, key: str, per_minute: int | None = None) -> float:
        per_minute = self.per_minute if per_minute is None else per_minute
        if per_minute <= 0:
            return 0.0
        now = time.time()  # wall clock: comparable across processes
        try:
            return self._check_shared(key, per_minute, now)
        except (sqlite3.Error, OSError) as exc:
            conn = getattr(self._tls, "conn", None)
            self._tls.conn = None
            if conn is not None:
                conn.close()
            if not self._warned:
                log.warning("shared rate limit store %s unusable (%s); limiting per process", self.path, exc)
                self._warned = True
            return self.local.take(key, per_minute, now)

    def _check_shared(self, key: str, per_minute: int, now: float) -> float:
        c = self._db()
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute("SELECT tokens, updated FROM buckets WHERE key = ?", (key,)).fetchone()
            tokens, last = row if row else (float(per_minute), now)
            tokens, wait = _take(tokens, last, per_minute, now)
            c.execute("INSERT OR REPLACE INTO buckets (key, tokens, updated) VALUES (?, ?, ?)", (key, tokens, now))
            self._checks += 1
            if self._checks % 5000 == 0:  # forget clients idle for an hour (their buckets are full)
                c.execute("DELETE FROM buckets WHERE updated < ?", (now - 3600,))
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        self._warned = False
        return wait
