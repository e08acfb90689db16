"""Request id, body size and content type — before any route runs (pure ASGI)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

log = logging.getLogger("assistant.api")
RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _json_response(status: int, body: dict, rid: str):
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return [
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", b"application/json; charset=utf-8"),
                     (b"content-length", str(len(data)).encode()), (b"x-request-id", rid.encode())]},
        {"type": "http.response.body", "body": data},
    ]


class GuardMiddleware:
    """Adds X-Request-ID; answers 413 for oversized bodies and 415 for non-JSON POSTs."""

    def __init__(self, app, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        rid = rid if RID_RE.match(rid) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                hdrs = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                hdrs.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": hdrs}
            await send(message)

        async def reject(status: int, code: str, detail: str):
            for m in _json_response(status, {"detail": detail, "code": code, "request_id": rid}, rid):
                await send(m)
            log.info("request_id=%s %s %s -> %s", rid, scope["method"], scope["path"], status)

        if scope["method"] in ("POST", "PUT", "PATCH"):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                return await reject(415, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）。")
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > self.max_body:
                return await reject(413, "payload_too_large", f"请求体过大（上限 {self.max_body} 字节）。")
            # a chunked body without length: count as it arrives
            received = {"n": 0}

            async def limited_receive():
                message = await receive()
                if message["type"] == "http.request":
                    received["n"] += len(message.get("body", b""))
                    if received["n"] > self.max_body:
                        raise _TooLarge()
                return message

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _TooLarge:
                await reject(413, "payload_too_large", f"请求体过大（上限 {self.max_body} 字节）。")
        else:
            await self.app(scope, receive, send_with_id)
        log.info("request_id=%s %s %s -> %s %.1fms", rid, scope["method"], scope["path"],
                 status_holder["status"], (time.perf_counter() - start) * 1000)


class _TooLarge(Exception):
    pass
