"""`brand-assistant chroma-serve`: a Chroma server that checks a token.

chromadb 1.5.9 has four published vulnerabilities with no fixed version
(CVE-2026-45829, -45830, -45831, -45833), and its server, `chroma run` (the Rust
frontend in 1.x), does not check credentials at all: its CLI starts the frontend with
a no-op authenticator, and the 0.x Python server's auth providers (CHROMA_SERVER_AUTHN_*)
do not apply to it. The nearest right thing, done here:

- `chroma run` listens on 127.0.0.1 only, on a port of its own;
- in front of it, this small proxy listens on the address the API instances use
  (loopback or a private interface only; a public or wildcard address is refused) and
  passes a connection's bytes on unchanged, checking each request's head first (the C
  parser httptools, so it costs little), and a request only with the token (`Authorization: Bearer <token>` — what
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


class _Denied(Exception):
    pass


class _RequestHeads:
    """httptools callbacks: checks the token as soon as each request's head is complete."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.url = b""
        self.headers: dict[str, str] = {}

    def on_message_begin(self) -> None:
        self.url, self.headers = b"", {}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        path = self.url.split(b"?", 1)[0].decode("latin-1")
        if path not in OPEN_PATHS and not token_ok(self.headers, self.token):
            raise _Denied()


def _response(status: str, payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


# chromadb's client raises its ChromaAuthError for this body
DENIED = _response("401 Unauthorized", {"error": "AuthError", "message": "Unauthorized: missing or wrong token"})
UPSTREAM_DOWN = _response("502 Bad Gateway", {"error": "InternalError", "message": "chroma unreachable"})


async def handle_connection(reader, writer, upstream: tuple[str, int], token: str) -> None:
    """One client connection: its bytes go to chroma run unchanged, each request head
    checked first (httptools, in C). A request without the token gets 401 and the
    connection is closed before any of that request reaches chroma."""
    import asyncio

    import httptools

    try:
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError:
        writer.write(UPSTREAM_DOWN)
        await _close(writer)
        return
    parser = httptools.HttpRequestParser(_RequestHeads(token))

    async def client_to_chroma() -> None:
        while data := await reader.read(65536):
            try:
                parser.feed_data(data)
            except httptools.HttpParserCallbackError as exc:
                if isinstance(exc.__context__, _Denied):
                    writer.write(DENIED)
                    await writer.drain()
                return
            except httptools.HttpParserUpgrade:
                return  # no protocol upgrades through this proxy
            except httptools.HttpParserError:
                writer.write(_response("400 Bad Request", {"error": "InvalidArgumentError", "message": "bad request"}))
                await writer.drain()
                return
            # a request head is forwarded only once checked; a partial head that is later
            # refused never completes upstream (the connection is closed first)
            up_writer.write(data)
            await up_writer.drain()

    async def chroma_to_client() -> None:
        while data := await up_reader.read(65536):
            writer.write(data)
            await writer.drain()

    tasks = [asyncio.ensure_future(client_to_chroma()), asyncio.ensure_future(chroma_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except Exception:  # noqa: BLE001 - a reset connection ends both directions
        pass
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _close(up_writer)
        await _close(writer)


async def _close(writer) -> None:
    try:
        writer.close()
        await writer.wait_closed()
    except Exception:  # noqa: BLE001
        pass


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
    import asyncio
    import signal

    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - installed with uvicorn[standard] (a chromadb dependency)
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: handle_connection(r, w, ("127.0.0.1", inner), token), host, port, reuse_address=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def watch() -> None:  # chroma gone: stop the proxy too, so a supervisor sees the failure
            child.wait()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch, daemon=True).start()
        print(f"Chroma 服务器（需令牌）：http://{host}:{port} → chroma run 127.0.0.1:{inner}（数据 {path}）", flush=True)
        async with server:
            await stop.wait()

    try:
        asyncio.run(main())
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
