"""Chat sessions in SQLite (WAL): every question is stored before it is answered,
so nothing a user typed is lost if the process dies mid-answer.

Each session belongs to the caller that started it (`owner`: a hash of the API key,
or "open" in local open mode); only the server creates session ids.

The store is not a hard dependency of the service: opening it never raises, and a
failed read or write (read-only or full disk, unreadable file) raises
StorageUnavailableError with a Chinese message, for the caller to degrade around."""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from assistant.errors import StorageUnavailableError, UnknownSessionError

log = logging.getLogger("assistant.sessions")
OPEN_OWNER = "open"  # the owner of sessions started in local open mode, the CLI and the in-process UI

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT 'open'
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    turn INTEGER NOT NULL,
    question TEXT NOT NULL,
    request TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',
    answer TEXT,
    context TEXT,
    created_at TEXT NOT NULL,
    answered_at TEXT,
    PRIMARY KEY (session_id, turn)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Turn:
    session_id: str
    turn: int
    question: str
    status: str
    answer: dict | None
    context: dict | None
    request: dict


def _storage_errors(fn):
    """sqlite3 and OS errors of a store operation → StorageUnavailableError (Chinese)."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            self._drop_connection()
            log.warning("session store %s failed: %s: %s", self.path, type(exc).__name__, exc)
            raise StorageUnavailableError(_storage_message(exc)) from exc

    return wrapper


def _storage_message(exc: BaseException) -> str:
    text = str(exc).lower()
    if "full" in text or "no space" in text:
        why = "磁盘空间已满"
    elif "readonly" in text or "read-only" in text or "permission" in text or "not permitted" in text:
        why = "数据目录只读或无写权限"
    else:
        why = "无法读写会话数据库"
    return f"会话存储暂不可用（{why}），请稍后重试或联系管理员。"


class SessionStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._ready = False
        self._init_lock = threading.Lock()
        self.error: str | None = None  # the last failure, for /readyz
        try:
            self._init()
        except (sqlite3.Error, OSError) as exc:  # the service starts anyway; retried on use
            self._drop_connection()
            self.error = _storage_message(exc)
            log.warning("session store %s unavailable at start: %s", self.path, exc)

    def _init(self) -> None:
        with self._init_lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            c = self._connect()
            c.execute("PRAGMA journal_mode=WAL")
            c.executescript(SCHEMA)
            if "owner" not in {r[1] for r in c.execute("PRAGMA table_info(sessions)")}:
                # stores from before sessions had owners: theirs is the open-mode owner,
                # so no API key can continue them
                c.execute("ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT 'open'")
            self._ready = True
            self.error = None

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, on a store whose schema is in place."""
        conn = self._connect()
        if not self._ready:
            self._init()
        return conn

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, opened once. Closing a WAL database's last connection
        checkpoints it, so a connection per call made that a per-request cost (an ask took
        5.0 ms in-process with it, 1.9 ms without). Writers, in this process or another,
        meet at SQLite's lock (BEGIN IMMEDIATE, busy_timeout)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=30000")
            # FULL: a turn or a feedback that was acknowledged survives a power cut, not only a
            # process crash (NORMAL in WAL mode may lose the last commits); costs an fsync per
            # commit (see README, operations)
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        """After a failure, reopen on next use (the disk may have been fixed meanwhile)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def probe(self) -> bool:
        """Whether the store can be opened and write-locked now (for /readyz). A full disk
        shows only when a write fails; those fail with StorageUnavailableError."""
        try:
            c = self._db()
            c.execute("PRAGMA busy_timeout=200")
            try:
                c.execute("BEGIN IMMEDIATE")
                c.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise  # another writer holding the lock means the store works
            finally:
                c.execute("PRAGMA busy_timeout=30000")
            self.error = None
            return True
        except (sqlite3.Error, OSError) as exc:
            self._drop_connection()
            self.error = _storage_message(exc)
            return False

    @_storage_errors
    def new_session(self, owner: str = OPEN_OWNER) -> str:
        sid = uuid.uuid4().hex
        c = self._db()
        c.execute("INSERT INTO sessions (id, created_at, updated_at, owner) VALUES (?, ?, ?, ?)",
                  (sid, _now(), _now(), owner))
        return sid

    @_storage_errors
    def exists(self, session_id: str) -> bool:
        c = self._db()
        return c.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None

    @_storage_errors
    def owner(self, session_id: str) -> str | None:
        """The session's owner, None when there is no such session."""
        row = self._db().execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row[0] if row else None

    def check_owner(self, session_id: str, owner: str) -> None:
        """UnknownSessionError unless the session exists and belongs to owner."""
        if self.owner(session_id) != owner:
            raise UnknownSessionError(session_id)

    @_storage_errors
    def start_turn(self, session_id: str, question: str, request: dict, owner: str = OPEN_OWNER) -> int:
        """Store the question (status pending) in one transaction; returns the turn number.
        The session must exist and belong to owner (else UnknownSessionError): an unknown
        id is never created. open_turn also starts new sessions."""
        return self.open_turn(session_id, question, request, owner)[1]

    @_storage_errors
    def open_turn(self, session_id: str | None, question: str, request: dict,
                  owner: str = OPEN_OWNER) -> tuple[str, int]:
        """start_turn that also starts a session (server-generated id) when session_id is
        None; returns (session_id, turn)."""
        c = self._db()
        c.execute("BEGIN IMMEDIATE")
        try:
            if session_id is None:
                session_id = uuid.uuid4().hex
                c.execute("INSERT INTO sessions (id, created_at, updated_at, owner) VALUES (?, ?, ?, ?)",
                          (session_id, _now(), _now(), owner))
            else:
                row = c.execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()
                if row is None or row[0] != owner:
                    raise UnknownSessionError(session_id)
            n = c.execute("SELECT COALESCE(MAX(turn), 0) + 1 FROM turns WHERE session_id = ?",
                          (session_id,)).fetchone()[0]
            c.execute("INSERT INTO turns (session_id, turn, question, request, created_at) VALUES (?, ?, ?, ?, ?)",
                      (session_id, n, question, json.dumps(request, ensure_ascii=False), _now()))
            c.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (_now(), session_id))
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return session_id, n

    @_storage_errors
    def finish_turn(self, session_id: str, turn: int, answer: dict, context: dict, status: str = "answered") -> None:
        c = self._db()
        c.execute("UPDATE turns SET answer = ?, context = ?, status = ?, answered_at = ? "
                  "WHERE session_id = ? AND turn = ?",
                  (json.dumps(answer, ensure_ascii=False), json.dumps(context, ensure_ascii=False),
                   status, _now(), session_id, turn))

    @_storage_errors
    def turns(self, session_id: str) -> list[Turn]:
        c = self._db()
        rows = c.execute("SELECT session_id, turn, question, status, answer, context, request FROM turns "
                         "WHERE session_id = ? ORDER BY turn", (session_id,)).fetchall()
        return [Turn(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                     json.loads(r[5]) if r[5] else None, json.loads(r[6] or "{}")) for r in rows]

    def last_answered(self, session_id: str) -> Turn | None:
        for t in reversed(self.turns(session_id)):
            if t.status == "answered" and t.context:
                return t
        return None

    @_storage_errors
    def add_feedback(self, session_id: str, turn: int, rating: int, comment: str = "") -> int:
        c = self._db()
        cur = c.execute("INSERT INTO feedback (session_id, turn, rating, comment, created_at) VALUES (?, ?, ?, ?, ?)",
                        (session_id, turn, rating, comment, _now()))
        return int(cur.lastrowid)

    @_storage_errors
    def feedback(self) -> list[dict]:
        c = self._db()
        rows = c.execute("SELECT session_id, turn, rating, comment FROM feedback ORDER BY id").fetchall()
        return [{"session_id": r[0], "turn": r[1], "rating": r[2], "comment": r[3]} for r in rows]

    @_storage_errors
    def recent_turns(self, feedback: str = "all", limit: int = 100, session_id: str | None = None) -> list[dict]:
        """Turns for the admin page, newest first, each with its latest feedback.
        feedback: all | rated (any feedback) | down (latest 👎) | up (latest 👍)."""
        where, args = [], []
        if session_id:
            where.append("t.session_id = ?")
            args.append(session_id)
        if feedback == "down":
            where.append("f.rating = -1")
        elif feedback == "up":
            where.append("f.rating = 1")
        elif feedback == "rated":
            where.append("f.rating IS NOT NULL")
        sql = ("SELECT t.session_id, t.turn, t.question, t.status, t.answer, t.request, t.created_at, "
               "f.rating, f.comment, f.created_at FROM turns t LEFT JOIN feedback f ON f.id = ("
               "SELECT MAX(id) FROM feedback WHERE session_id = t.session_id AND turn = t.turn) "
               + ("WHERE " + " AND ".join(where) + " " if where else "")
               + "ORDER BY COALESCE(f.created_at, t.created_at) DESC, t.created_at DESC, t.turn DESC LIMIT ?")
        rows = self._db().execute(sql, (*args, int(limit))).fetchall()
        out = []
        for r in rows:
            answer = json.loads(r[4]) if r[4] else {}
            out.append({"session_id": r[0], "turn": r[1], "question": r[2], "status": r[3], "answer": answer,
                        "request": json.loads(r[5] or "{}"), "created_at": r[6], "rating": r[7],
                        "comment": r[8] or "", "feedback_at": r[9] or ""})
        return out
