"""The access log: one JSON line per request, on stderr and optionally in a file.

Fields: time (UTC), request_id, key_id (a fingerprint of the API key, never the key;
"open" in open mode, "invalid"/"none" for a refused key), client_ip, method, path (no
query string), status, latency_ms; for search and ask also question_chars and a short
question_sha1. The question text itself only with BA_LOG_QUESTIONS=1.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LOGGER = "assistant.access"


class _Raw(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced after start-up)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class AccessLog:
    def __init__(self, logger: logging.Logger, log_questions: bool) -> None:
        self.logger = logger
        self.log_questions = log_questions

    def emit(self, scope, state: dict, status: int, latency_ms: float) -> None:
        if not self.logger.handlers:
            return
        line = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "request_id": state.get("request_id", ""),
            "key_id": state.get("key_id", "-"),
            "client_ip": state.get("client_ip", ""),
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "status": status,
            "latency_ms": round(latency_ms, 2),
        }
        q = state.get("question")
        if q is not None:
            import hashlib

            line["question_chars"] = len(q)
            line["question_sha1"] = hashlib.sha1(q.encode("utf-8")).hexdigest()[:10]
            if self.log_questions:
                line["question"] = q
        try:
            self.logger.info(json.dumps(line, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - a log that cannot be written never fails a request
            pass


def access_logger(settings) -> AccessLog:
    """The process's access logger, its handlers set once from settings (stderr when
    BA_ACCESS_LOG is on, plus BA_ACCESS_LOG_FILE)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # JSON lines only, not again through the root logger's format
    wanted = []
    if settings.access_log:
        wanted.append(("stderr", None))
    if settings.access_log_file:
        wanted.append(("file", str(settings.access_log_file)))
    have = {getattr(h, "_ba_key", None): h for h in logger.handlers}
    for key in list(have):
        if key not in wanted:
            logger.removeHandler(have[key])
            have[key].close()
    for key in wanted:
        if key in have:
            continue
        if key[0] == "stderr":
            handler: logging.Handler = _Stderr()
        else:
            from pathlib import Path

            try:
                Path(key[1]).parent.mkdir(parents=True, exist_ok=True)
                handler = logging.FileHandler(key[1], encoding="utf-8")
            except OSError as exc:  # an unwritable log file never stops the API
                logging.getLogger("assistant.api").warning("access log file %s: %s", key[1], exc)
                continue
        handler._ba_key = key  # type: ignore[attr-defined]
        handler.setFormatter(_Raw())
        logger.addHandler(handler)
    return AccessLog(logger, settings.log_questions)
