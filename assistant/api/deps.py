"""Dependencies: the loaded service (once per worker), API keys and rate limits.

All are `async def`: FastAPI would run a plain `def` dependency in its thread pool — a
thread hop per dependency per request. The shared rate limit is one short SQLite
transaction (tens of microseconds), done inline."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.api.batching import QueryVectorBatcher
from assistant.chat.service import ChatService
from assistant.chat.sessions import OPEN_OWNER
from assistant.settings import Settings


@dataclass(frozen=True)
class Caller:
    """Who is calling. owner: what sessions are stored under (a hash of the key, never
    the key); key_id: a short fingerprint for the logs."""

    owner: str
    key_id: str
    client_ip: str


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


async def require_key(request: Request,
                      x_api_key: Annotated[str | None, Header(description="API 密钥 (API key)")] = None) -> Caller:
    settings: Settings = request.app.state.settings
    limiter = request.app.state.limiter
    ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "local")
    # admin keys (BA_ADMIN_KEYS) may do everything an ordinary key may
    keys = settings.api_key_list + settings.admin_key_list if settings.api_key_list else []
    if keys:
        key = match_key(x_api_key, keys)
        if key is None:
            request.state.key_id = "invalid" if x_api_key else "none"
            # failed attempts are throttled per client address, so keys cannot be guessed at speed
            wait = limiter.check(f"authfail:{ip}", settings.auth_fail_per_minute)
            if wait > 0:
                raise _too_many(wait)
            raise HTTPException(401, "缺少或无效的 API 密钥（请求头 X-API-Key）。")
        caller = Caller(owner=key_owner(key), key_id=key_id(key), client_ip=ip)
        bucket = f"key:{caller.key_id}"
    elif settings.open_mode:
        caller = Caller(owner=OPEN_OWNER, key_id="open", client_ip=ip)
        bucket = f"ip:{ip}"
    else:
        request.state.key_id = "none"
        wait = limiter.check(f"authfail:{ip}", settings.auth_fail_per_minute)
        if wait > 0:
            raise _too_many(wait)
        raise HTTPException(401, "服务未配置 API 密钥，也未开启本地开放模式（BA_OPEN_MODE=1）。")
    request.state.key_id = caller.key_id
    wait = limiter.check(bucket)
    if wait > 0:
        raise _too_many(wait)
    return caller


async def require_admin(request: Request,
                        x_api_key: Annotated[str | None, Header(description="管理员 API 密钥 (BA_ADMIN_KEYS)")] = None
                        ) -> Caller:
    """Only an admin key (BA_ADMIN_KEYS) may change the corpus; ordinary keys and the local
    open mode cannot. Failed attempts count against the address like any wrong key."""
    settings: Settings = request.app.state.settings
    limiter = request.app.state.limiter
    ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "local")
    admins = settings.admin_key_list
    key = match_key(x_api_key, admins) if admins else None
    if key is None:
        request.state.key_id = "invalid" if x_api_key else "none"
        wait = limiter.check(f"authfail:{ip}", settings.auth_fail_per_minute)
        if wait > 0:
            raise _too_many(wait)
        if not admins:
            raise HTTPException(403, "服务未配置管理员密钥（BA_ADMIN_KEYS），不能通过 API 修改知识库。")
        if x_api_key and match_key(x_api_key, settings.api_key_list):
            raise HTTPException(403, "该 API 密钥没有管理权限：添加、替换、删除文件需要管理员密钥（BA_ADMIN_KEYS）。")
        raise HTTPException(401, "缺少或无效的管理员密钥（请求头 X-API-Key）。")
    caller = Caller(owner=key_owner(key), key_id=key_id(key), client_ip=ip)
    request.state.key_id = caller.key_id
    return caller


async def get_batcher(request: Request, chat: Annotated[ChatService, Depends(get_chat)]) -> QueryVectorBatcher:
    batcher = getattr(request.app.state, "batcher", None)
    if batcher is None or batcher.retriever is not chat.retriever:
        batcher = request.app.state.batcher = QueryVectorBatcher(chat.retriever)
    return batcher


Chat = Annotated[ChatService, Depends(get_chat)]
Batcher = Annotated[QueryVectorBatcher, Depends(get_batcher)]
CallerDep = Annotated[Caller, Depends(require_key)]
AdminDep = Annotated[Caller, Depends(require_admin)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
