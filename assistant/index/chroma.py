"""Talking to a Chroma server: with a token, a timeout, and without taking the API down.

chromadb's HttpClient has no timeout (a frozen server blocks the caller for ever) and
connects while it is being constructed (the API would not start while Chroma is down).
`ResilientCollection` stands in for the chroma collection behind llama-index's
ChromaVectorStore (`vector_store.client`):

- it connects on first use, not at start-up;
- every call has a deadline (BA_CHROMA_TIMEOUT, default 5 s);
- a failure is DependencyUnavailableError (HTTP 503 with Retry-After and a Chinese
  detail), and for a short cool-down afterwards calls fail at once instead of each
  waiting out the timeout on a server known to be down;
- after the cool-down the next call tries again, so the service recovers by itself
  when Chroma returns;
- on connecting it checks that the collection was built from the same embedding model
  and corpus as this instance's local index (several instances share one server): if
  not, it refuses (503) rather than mix vectors and answers.

The token goes out with chroma's own client token provider (Authorization: Bearer).
chroma run 1.x does not check tokens itself; `brand-assistant chroma-serve` puts an
authenticating proxy in front of it (assistant/chroma_proxy.py).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import math
import threading
import time
from typing import Any, Callable

import httpx

from assistant.errors import AssistantError, DependencyUnavailableError

log = logging.getLogger("assistant.chroma")
COOLDOWN = 2.0  # seconds of failing fast after a failed call


class ChromaConfigError(AssistantError):
    """Server mode configured without what it needs (the token)."""


def http_client(settings, timeout: float | None = None):
    """A chromadb HttpClient for settings.chroma_host with the token and a timeout on
    every request (construction included). Raises ChromaConfigError without a token."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if not settings.chroma_token:
        raise ChromaConfigError(
            "连接 Chroma 服务器须设置令牌 CHROMA_TOKEN（或 BA_CHROMA_TOKEN），并让服务器端检查它"
            "（brand-assistant chroma-serve）。chromadb 1.5.9 有尚无修复版本的漏洞，不可无鉴权运行 Chroma 服务器。",
            hint="Set CHROMA_TOKEN; run the server with `brand-assistant chroma-serve`.")
    timeout = timeout or settings.chroma_timeout
    cs = ChromaSettings(anonymized_telemetry=False,
                        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
                        chroma_client_auth_credentials=settings.chroma_token)

    def make():
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=cs)
        except ValueError as exc:  # the constructor turns every failure into a ValueError
            cause = exc.__context__
            if isinstance(cause, httpx.HTTPError):
                raise cause from None
            raise httpx.ConnectError(str(exc)) from exc

    # the constructor already talks to the server, with no timeout of its own: run it
    # with a deadline (a frozen server leaves that one thread waiting, not the caller)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-connect")
    try:
        client = pool.submit(make).result(timeout=timeout + 1.0)
    except concurrent.futures.TimeoutError:
        raise httpx.ReadTimeout(f"no answer from Chroma within {timeout:g} s") from None
    finally:
        pool.shutdown(wait=False)
    client._server._session.timeout = httpx.Timeout(timeout, connect=min(timeout, 2.0))
    return client


def _is_dependency_error(exc: BaseException) -> bool:
    from chromadb.errors import ChromaError

    # chromadb raises a bare Exception(resp.text) for an HTTP error it cannot classify
    # (a 502 from a proxy whose Chroma died, for one)
    return isinstance(exc, (httpx.HTTPError, ChromaError, OSError, TimeoutError)) or type(exc) is Exception


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "Chroma 服务器在时限内没有响应"
    if isinstance(exc, (httpx.ConnectError, ConnectionError)):
        return "无法连接 Chroma 服务器"
    if "Auth" in name or "401" in str(exc) or "403" in str(exc):
        return "Chroma 服务器拒绝了令牌（请检查 CHROMA_TOKEN 与服务器端是否一致）"
    if "NotFound" in name:
        return "Chroma 服务器上没有本索引的向量集合（请运行 brand-assistant index）"
    return "Chroma 服务器返回错误"


class ResilientCollection:
    """The chroma collection, through the guards described in the module docstring."""

    def __init__(self, settings, collection_name: str, expect: dict | None = None,
                 on_connect: Callable[[Any], None] | None = None,
                 connect: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.name = collection_name
        self.expect = expect or {}
        self.on_connect = on_connect
        self._connect_fn = connect or (lambda: http_client(settings))
        self._client = None
        self._collection = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.last_error: str | None = None
        self.mismatch: str | None = None

    # -- connection -------------------------------------------------------------------
    def _unavailable(self, detail: str) -> DependencyUnavailableError:
        wait = max(1, math.ceil(self._down_until - time.monotonic()))
        return DependencyUnavailableError(
            f"向量检索暂不可用：{detail}。请 {wait} 秒后重试。", dependency="chroma", retry_after=wait)

    def _fail(self, exc: BaseException) -> DependencyUnavailableError:
        detail = _describe(exc)
        with self._lock:
            self._down_until = time.monotonic() + COOLDOWN
            self.last_error = detail
            if "NotFound" in type(exc).__name__:
                self._collection = None  # look the collection up again next time
        log.warning("chroma %s:%s: %s (%s: %s)", self.settings.chroma_host, self.settings.chroma_port,
                    detail, type(exc).__name__, str(exc)[:200])
        return self._unavailable(detail)

    def _get(self):
        if self.mismatch:
            raise DependencyUnavailableError(self.mismatch, dependency="chroma", retry_after=60)
        if time.monotonic() < self._down_until:
            raise self._unavailable(self.last_error or "Chroma 服务器不可用")
        collection = self._collection
        if collection is not None:
            return collection
        try:
            client = self._client or self._connect_fn()
            collection = client.get_collection(self.name, embedding_function=None)
        except Exception as exc:  # noqa: BLE001 - classified below
            if _is_dependency_error(exc):
                raise self._fail(exc) from exc
            raise
        self._client = client
        self._check(collection)
        if self.on_connect is not None:
            try:
                self.on_connect(collection)
            except Exception as exc:  # noqa: BLE001
                if _is_dependency_error(exc):
                    raise self._fail(exc) from exc
                raise
        with self._lock:
            self._collection = collection
            self.last_error = None
        log.info("chroma %s:%s connected", self.settings.chroma_host, self.settings.chroma_port)
        return collection

    def _check(self, collection) -> None:
        """The shared collection must hold vectors of this instance's model and corpus."""
        meta = collection.metadata or {}
        want_embed = self.expect.get("embedding")
        want_corpus = self.expect.get("corpus")
        problems = []
        if want_embed and meta.get("embedding") != want_embed:
            problems.append(f"嵌入模型 {meta.get('embedding')} ≠ 本地索引的 {want_embed}")
        if want_corpus is not None and json.loads(meta.get("corpus") or "{}") != want_corpus:
            problems.append("语料版本与本地索引不同")
        if problems:
            self.mismatch = ("Chroma 服务器上的向量与本实例的索引不一致（" + "；".join(problems) +
                             "），可能是另一实例以不同的模型或语料重建了共享向量库。为免答复混杂，向量检索已停用；"
                             "请在各实例上用同一版本运行 brand-assistant index 后重启。")
            log.error("chroma collection mismatch: %s", "; ".join(problems))
            raise DependencyUnavailableError(self.mismatch, dependency="chroma", retry_after=60)

    def call(self, method: str, *args, **kwargs):
        collection = self._get()
        try:
            return getattr(collection, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            if _is_dependency_error(exc):
                raise self._fail(exc) from exc
            raise

    # -- what llama-index and the retriever use -------------------------------------------
    def query(self, *args, **kwargs):
        return self.call("query", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self.call("get", *args, **kwargs)

    def count(self):
        return self.call("count")

    def add(self, *args, **kwargs):
        return self.call("add", *args, **kwargs)

    def upsert(self, *args, **kwargs):
        return self.call("upsert", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self.call("delete", *args, **kwargs)

    @property
    def metadata(self):
        return self._get().metadata

    def __getattr__(self, name: str):  # anything else a collection has
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._get(), name)

    # -- readiness ----------------------------------------------------------------------
    def status(self) -> dict:
        """{"ok", "detail"} for /readyz: a heartbeat within the timeout (and the collection
        found and matching). Never raises."""
        try:
            if self._collection is not None and time.monotonic() >= self._down_until:
                self._client.heartbeat()
            else:
                self._get()
            return {"ok": True, "detail": "已连接"}
        except DependencyUnavailableError as exc:
            return {"ok": False, "detail": exc.message}
        except Exception as exc:  # noqa: BLE001
            if _is_dependency_error(exc):
                return {"ok": False, "detail": self._fail(exc).message}
            return {"ok": False, "detail": f"{type(exc).__name__}"}


class building:
    """Context for an index build against a Chroma server: a lost or refusing server
    becomes a Chinese DependencyUnavailableError instead of a traceback."""

    def __init__(self, settings) -> None:
        self.settings = settings

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or not self.settings.chroma_host or not _is_dependency_error(exc):
            return False
        raise DependencyUnavailableError(
            f"构建索引需要 Chroma 服务器 {self.settings.chroma_host}:{self.settings.chroma_port}，但{_describe(exc)}。"
            "请确认服务器已启动（brand-assistant chroma-serve）且 CHROMA_TOKEN 一致后重试。",
            dependency="chroma") from exc
