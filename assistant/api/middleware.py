"""Before any route runs, and after it has answered (pure ASGI):

- a request id (X-Request-ID) and the caller's address (X-Forwarded-For only from
  configured proxies);
- the request body, read here in full with a size limit (413, also for chunked bodies),
  a time limit (408 for a client that stalls) and a UTF-8 check (422); 415 for a POST
  that is not JSON;
- no exception escapes: one that a route did not turn into a response becomes a JSON
  error here (errors.unexpected_response), so the server never drops the client's
  keep-alive connection for it;
- one access-log line (JSON) per request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
import uuid

from assistant.api import errors
from assistant.api.access_log import access_logger

log = logging.getLogger("assistant.api")
RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UPLOAD_PATH = "/v1/documents"  # the one route that takes a file (multipart), up to BA_MAX_UPLOAD_MB


def _json_messages(status: int, body: dict, rid: str, headers: dict[str, str] | None = None) -> list[dict]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    hdrs = [(b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(data)).encode()), (b"x-request-id", rid.encode())]
    hdrs += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return [{"type": "http.response.start", "status": status, "headers": hdrs},
            {"type": "http.response.body", "body": data}]


class _Reject(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


class _ClientGone(Exception):
    pass


class GuardMiddleware:
    def __init__(self, app, settings) -> None:
        self.app = app
        self.settings = settings
        self.max_body = settings.max_body_bytes
        self.max_upload = int(settings.max_upload_mb * 2**20) + 64 * 1024  # the file and its form fields
        self.body_timeout = settings.body_timeout
        self.trusted = settings.trusted_proxy_networks
        self.access = access_logger(settings)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        rid = rid if RID_RE.match(rid) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["client_ip"] = client_ip(scope, headers, self.trusted)
        start = time.perf_counter()
        sent = {"status": 0, "started": False, "done": False}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                sent["status"], sent["started"] = message["status"], True
                hdrs = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                hdrs.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": hdrs}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                sent["done"] = True
            await send(message)

        try:
            try:
                body = await self._read_body(scope, headers, receive)
            except _Reject as rej:
                for m in _json_messages(rej.status, errors.error_dict(rid, rej.code, rej.detail), rid, rej.headers):
                    await send_with_id(m)
                return
            except _ClientGone:
                sent["status"] = 499  # the client went away before sending its body (nginx's code)
                return
            replayed = body is None

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # after the body: only http.disconnect is left

            try:
                await self.app(scope, replay, send_with_id)
            except Exception as exc:  # noqa: BLE001 - nothing may escape to the server
                status, payload, extra = errors.unexpected_response(exc, rid, scope)
                if not sent["started"]:
                    for m in _json_messages(status, payload, rid, extra):
                        await send_with_id(m)
                elif not sent["done"]:  # a stream broke off: end the message properly
                    await send_with_id({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.access.emit(scope, state, sent["status"], (time.perf_counter() - start) * 1000)

    async def _read_body(self, scope, headers: dict[str, str], receive) -> bytes | None:
        """The whole request body (None when the request has none), or _Reject."""
        method = scope["method"]
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if method in ("GET", "HEAD", "OPTIONS") and not chunked and not (length and length != "0"):
            return None
        upload = method == "POST" and scope.get("path") == UPLOAD_PATH
        max_body = self.max_upload if upload else self.max_body
        if method == "POST":
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if upload and ctype != "multipart/form-data":
                raise _Reject(415, "unsupported_media_type", "上传文件须为 multipart/form-data（字段 file）。")
            if not upload and ctype != "application/json":
                raise _Reject(415, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）。")
        too_large = _Reject(413, "payload_too_large",
                            f"上传的文件过大（上限 {self.settings.max_upload_mb:g} MB，BA_MAX_UPLOAD_MB）。" if upload
                            else f"请求体过大（上限 {self.max_body} 字节）。", {"connection": "close"})
        if length and length.isdigit() and int(length) > max_body:
            raise too_large
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (max(self.body_timeout, 300.0) if upload else self.body_timeout)
        chunks, size = [], 0
        while True:
            try:
                # timeout_at, not wait_for: no extra task (and loop iterations) per request
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _Reject(408, "request_timeout",
                              f"请求体未在 {self.body_timeout:g} 秒内发送完毕，连接已关闭，请重试。",
                              {"connection": "close"}) from None
            if message["type"] == "http.disconnect":
                raise _ClientGone()
            part = message.get("body", b"")
            size += len(part)
            if size > max_body:  # a chunked body is counted as it arrives
                raise too_large
            chunks.append(part)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if method == "POST" and not upload:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Reject(422, "invalid_encoding",
                              f"请求体不是合法的 UTF-8 编码（第 {exc.start} 字节处），请以 UTF-8 发送 JSON。") from None
        return body


def _trusted(addr: str, trusted: list) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_ip(scope, headers: dict[str, str], trusted: list) -> str:
    """The caller's address: the TCP peer, unless the peer is a configured proxy; then
    the right-most X-Forwarded-For entry that is not a configured proxy (entries to its
    left were written by the client and prove nothing)."""
    peer = scope["client"][0] if scope.get("client") else "local"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer
