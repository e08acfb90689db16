"""Dependencies: the loaded service (once per worker), API keys and rate limits.

All are `async def`: FastAPI would run a plain `def` dependency in its thread pool — a
thread hop per dependency per request. The shared rate limit is one short SQLite
transaction (tens of microseconds), done inline."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.api.batching import QueryVectorBatcher
from assistant.chat.service import ChatService
from assistant.chat.sessions import OPEN_OWNER
from assistant.errors import ForbiddenError
from assistant.settings import Settings

# What a key may do. A route needs one scope; documents and vocabularies are "search"
# (reading the documents), so a widget key can open the clause a citation points at.
SCOPES = ("ask", "search", "feedback", "reports", "admin")
FULL = frozenset({"ask", "search", "feedback", "reports"})  # BA_API_KEYS and open mode
WIDGET = frozenset({"ask", "search"})  # BA_WIDGET_KEYS: a key that sits in public web pages
ADMIN = frozenset(SCOPES)  # BA_ADMIN_KEYS
SCOPE_ZH = {"ask": "问答", "search": "检索与文件浏览", "feedback": "反馈", "reports": "试点文稿", "admin": "管理"}


@dataclass(frozen=True)
class Caller:
    """Who is calling. owner: what sessions are stored under (a hash of the key, never
    the key); key_id: a short fingerprint for the logs; scopes: what the key may do;
    kind: open | api | widget | admin."""

    owner: str
    key_id: str
    client_ip: str
    scopes: frozenset = field(default=FULL)
    kind: str = "api"
    origins: tuple[str, ...] = ()  # a widget key's allowed sites


def _digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def match_key(given: str | None, keys: list[str]) -> str | None:
    """The configured key equal to `given`, compared in constant time (every key is
    compared, as fixed-length digests), or None."""
    if not given:
        return None
    # Starlette decodes header bytes as latin-1: back to the bytes the client sent
    given_d = _digest(given.encode("latin-1", errors="replace"))
    found = None
    for k in keys:
        if hmac.compare_digest(given_d, _digest(k.encode("utf-8"))):
            found = k
    return found


def key_owner(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id(key: str) -> str:
    return "k-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def _too_many(wait: float) -> HTTPException:
    return HTTPException(429, f"请求过于频繁，请 {math.ceil(wait)} 秒后重试。",
                         headers={"Retry-After": str(math.ceil(wait))})


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_chat(request: Request) -> ChatService:
    reload = getattr(request.app.state, "reload_if_changed", None)
    if reload is not None:  # another worker changed the knowledge base: open the new index
        await reload()
    chat = getattr(request.app.state, "chat", None)
    if chat is None:
        not_ready = getattr(request.app.state, "not_ready", None)
        if not_ready is not None:  # a broken corpus file or index: 503 with the reason
            raise not_ready
        raise HTTPException(503, "索引尚未加载完成，请稍后重试。")
    return chat


def is_own_origin(request: Request, origin: str) -> bool:
    """Whether a browser Origin is this API's own host (the /widget page calling home). The
    host is compared, not the scheme: behind a TLS-terminating proxy the API sees http."""
    from urllib.parse import urlsplit

    host = request.headers.get("host", "").lower()
    return bool(host) and urlsplit(origin).netloc.lower() == host


def check_widget_origin(request: Request, origins: list[str]) -> None:
    """A widget key is used from a browser: by the /widget page itself (same origin) or by
    a page of a site on the key's allow-list (CORS). Browsers set Origin on cross-origin
    requests and on same-origin POSTs, and Sec-Fetch-Site on all; a request with neither
    is not a browser's, and a widget key is not for servers. (Anyone can forge headers
    outside a browser: the key is public by design, which is why its scope is small.)"""
    origin = (request.headers.get("origin") or "").lower().rstrip("/")
    if origin:
        if origin in origins or is_own_origin(request, origin):
            return
        raise ForbiddenError(f"该挂件密钥未授权在 {origin} 使用（不在允许的网站列表中）。",
                             code="origin_not_allowed",
                             hint="Add the site's origin to this key's list in BA_WIDGET_KEYS.")
    if request.headers.get("sec-fetch-site") == "same-origin":
        return
    raise ForbiddenError("挂件密钥只能在已登记网站的网页中使用。", code="origin_not_allowed",
                         hint="Widget keys need a browser Origin on their allow-list.")


def identify(request: Request, given: str | None) -> Caller | None:
    """The caller a key (or its absence) stands for, None for a missing or wrong key."""
    settings: Settings = request.app.state.settings
    ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "local")
    if given:
        key = match_key(given, settings.admin_key_list)
        if key is not None:
            return Caller(owner=key_owner(key), key_id=key_id(key), client_ip=ip, scopes=ADMIN, kind="admin")
        key = match_key(given, settings.api_key_list)
        if key is not None:
            return Caller(owner=key_owner(key), key_id=key_id(key), client_ip=ip, scopes=FULL, kind="api")
        key = match_key(given, list(settings.widget_keys))
        if key is not None:
            return Caller(owner=key_owner(key), key_id=key_id(key), client_ip=ip, scopes=WIDGET, kind="widget",
                          origins=tuple(settings.widget_keys[key]))
        return None
    if settings.open_mode and not settings.api_key_list:
        return Caller(owner=OPEN_OWNER, key_id="open", client_ip=ip, scopes=FULL, kind="open")
    return None


async def require_key(request: Request,
                      x_api_key: Annotated[str | None, Header(description="API 密钥 (API key)")] = None) -> Caller:
    settings: Settings = request.app.state.settings
    limiter = request.app.state.limiter
    caller = identify(request, x_api_key)
    if caller is None:
        ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "local")
        request.state.key_id = "invalid" if x_api_key else "none"
        # failed attempts are throttled per client address, so keys cannot be guessed at speed
        wait = limiter.check(f"authfail:{ip}", settings.auth_fail_per_minute)
        if wait > 0:
            raise _too_many(wait)
        if not x_api_key and not (settings.api_key_list or settings.admin_key_list or settings.widget_keys):
            raise HTTPException(401, "服务未配置 API 密钥，也未开启本地开放模式（BA_OPEN_MODE=1）。")
        raise HTTPException(401, "缺少或无效的 API 密钥（请求头 X-API-Key）。")
    request.state.key_id = caller.key_id
    if caller.kind == "widget":
        check_widget_origin(request, list(caller.origins))
        # one widget key serves every visitor of a portal: each visitor's address gets its own budget
        bucket = f"key:{caller.key_id}:ip:{caller.client_ip}"
    else:
        bucket = f"key:{caller.key_id}" if caller.kind != "open" else f"ip:{caller.client_ip}"
    wait = limiter.check(bucket)
    if wait > 0:
        raise _too_many(wait)
    return caller


def scoped(scope: str):
    """A dependency: the caller, who must hold `scope` (else 403, in Chinese)."""
    assert scope in SCOPES

    async def dep(caller: Annotated[Caller, Depends(require_key)]) -> Caller:
        if scope not in caller.scopes:
            if scope == "admin":
                raise ForbiddenError("需要管理员密钥（BA_ADMIN_KEYS）才能使用管理功能。")
            raise ForbiddenError(f"该密钥无权使用{SCOPE_ZH[scope]}接口（挂件密钥只能问答与检索）。")
        return caller

    return dep


async def get_batcher(request: Request, chat: Annotated[ChatService, Depends(get_chat)]) -> QueryVectorBatcher:
    batcher = getattr(request.app.state, "batcher", None)
    if batcher is None or batcher.retriever is not chat.retriever:
        batcher = request.app.state.batcher = QueryVectorBatcher(chat.retriever)
    return batcher


Chat = Annotated[ChatService, Depends(get_chat)]
Batcher = Annotated[QueryVectorBatcher, Depends(get_batcher)]
AskCaller = Annotated[Caller, Depends(scoped("ask"))]
SearchCaller = Annotated[Caller, Depends(scoped("search"))]
FeedbackCaller = Annotated[Caller, Depends(scoped("feedback"))]
ReportsCaller = Annotated[Caller, Depends(scoped("reports"))]
AdminCaller = Annotated[Caller, Depends(scoped("admin"))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
