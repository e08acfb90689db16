"""`brand-assistant chroma-serve`: a Chroma server that checks a token.

chromadb 1.5.9 has four published vulnerabilities with no fixed version
(CVE-2026-45829, -45830, -45831, -45833), and its server, `chroma run` (the Rust
frontend in 1.x), does not check credentials at all: its CLI starts the frontend with
a no-op authenticator, and the 0.x Python server's auth providers (CHROMA_SERVER_AUTHN_*)
do not apply to it. The nearest right thing, done here:

- `chroma run` listens on 127.0.0.1 only, on a port of its own;
- in front of it, this small proxy listens on the address the API instances use
  (loopback or a private interface only; a public or wildcard address is refused) and
  passes a request on only with the token (`Authorization: Bearer <token>` — what
  chromadb's TokenAuthClientProvider sends — or `X-Chroma-Token`), compared in constant
  time; /api/v2/heartbeat is open, for health checks;
- if `chroma run` exits, the proxy exits too (a supervisor restarts the pair).

The token is Settings.chroma_token (CHROMA_TOKEN), the same the API sends. A reverse
proxy such as nginx checking the same header in front of a loopback `chroma run` is
equivalent (README, operations).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

OPEN_PATHS = {"/api/v2/heartbeat", "/api/v1/heartbeat"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length", "authorization", "x-chroma-token"}


def _digest(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def token_ok(headers: dict[str, str], token: str) -> bool:
    given = headers.get("x-chroma-token")
    auth = headers.get("authorization", "")
    if given is None and auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    if not given:
        return False
    return hmac.compare_digest(_digest(given.encode("latin-1", errors="replace")), _digest(token.encode("utf-8")))


def make_app(upstream: str, token: str, timeout: float = 60.0):
    """The authenticating proxy as a pure ASGI app (one pooled HTTP client upstream)."""
    state: dict = {}

    async def reply(send, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["client"] = httpx.AsyncClient(base_url=upstream, timeout=timeout,
                                                        limits=httpx.Limits(max_keepalive_connections=64))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await state["client"].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"] not in OPEN_PATHS and not token_ok(headers, token):
            # chromadb's client raises its ChromaAuthError for this body
            return await reply(send, 401, {"error": "AuthError", "message": "Unauthorized: missing or wrong token"})
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        fwd = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        try:
            r = await state["client"].request(scope["method"], url, headers=fwd, content=body)
        except httpx.HTTPError as exc:
            return await reply(send, 502, {"error": "InternalError", "message": f"chroma unreachable: {type(exc).__name__}"})
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP]
        out.append((b"content-length", str(len(r.content)).encode()))
        await send({"type": "http.response.start", "status": r.status_code, "headers": out})
        await send({"type": "http.response.body", "body": r.content})

    return app


def check_bind_address(host: str) -> str | None:
    """None when host is loopback or private; else why it is refused (Chinese)."""
    if host == "localhost":
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"{host} 不是 IP 地址：请给出回环地址或内网接口地址（如 127.0.0.1、10.0.0.5）。"
    if ip.is_unspecified:
        return f"{host} 会监听所有网络接口（含公网）。请给出回环地址或内网接口地址。"
    if not (ip.is_loopback or ip.is_private):
        return f"{host} 是公网地址。Chroma 服务器只可监听回环地址或内网接口。"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_exe() -> str:
    here = Path(sys.executable).parent / "chroma"
    return str(here) if here.exists() else (shutil.which("chroma") or "chroma")


def serve(path: Path, host: str, port: int, token: str, chroma_port: int | None = None) -> int:
    """Run `chroma run` on loopback and the token-checking proxy on host:port until one stops."""
    import os

    import uvicorn

    inner = chroma_port or _free_port()
    child = subprocess.Popen([_chroma_exe(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(inner)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    upstream = f"http://127.0.0.1:{inner}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if child.poll() is not None:
            print(f"错误：chroma run 启动失败（退出码 {child.returncode}）。", file=sys.stderr)
            return 1
        try:
            if httpx.get(upstream + "/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        child.kill()
        print("错误：chroma run 未在 60 秒内就绪。", file=sys.stderr)
        return 1
    server = uvicorn.Server(uvicorn.Config(make_app(upstream, token), host=host, port=port, log_level="warning",
                                           access_log=False, proxy_headers=False))

    def watch() -> None:  # chroma gone: stop the proxy too, so a supervisor sees the failure
        child.wait()
        server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    print(f"Chroma 服务器（需令牌）：http://{host}:{port} → chroma run 127.0.0.1:{inner}（数据 {path}）", flush=True)
    try:
        server.run()
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    if child.returncode not in (None, 0, -15):
        print(f"错误：chroma run 已退出（退出码 {child.returncode}）。", file=sys.stderr)
        return 1
    return 0
