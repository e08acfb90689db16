"""Dependencies: the loaded service (once per worker), API keys and rate limits.

All are `async def`: they never block, and FastAPI would run a plain `def` dependency
in its thread pool — a thread hop per dependency per request."""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.api.batching import QueryVectorBatcher
from assistant.chat.service import ChatService
from assistant.settings import Settings


class RateLimiter:
    """Token bucket per key, per worker process."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 when allowed, else seconds until the next request is allowed."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_chat(request: Request) -> ChatService:
    chat = getattr(request.app.state, "chat", None)
    if chat is None:
        raise HTTPException(503, "索引尚未加载完成，请稍后重试。")
    return chat


async def require_key(request: Request,
                x_api_key: Annotated[str | None, Header(description="API 密钥 (API key)")] = None) -> str:
    settings: Settings = request.app.state.settings
    keys = settings.api_key_list
    if keys:
        if x_api_key not in keys:
            raise HTTPException(401, "缺少或无效的 API 密钥（请求头 X-API-Key）。")
        who = f"key:{x_api_key}"
    elif settings.open_mode:
        who = f"ip:{request.client.host if request.client else 'local'}"
    else:
        raise HTTPException(401, "服务未配置 API 密钥，也未开启本地开放模式（BA_OPEN_MODE=1）。")
    wait = request.app.state.limiter.check(who)
    if wait > 0:
        raise HTTPException(429, f"请求过于频繁，请 {math.ceil(wait)} 秒后重试。",
                            headers={"Retry-After": str(math.ceil(wait))})
    return who


async def get_batcher(request: Request, chat: Annotated[ChatService, Depends(get_chat)]) -> QueryVectorBatcher:
    batcher = getattr(request.app.state, "batcher", None)
    if batcher is None or batcher.retriever is not chat.retriever:
        batcher = request.app.state.batcher = QueryVectorBatcher(chat.retriever)
    return batcher


Chat = Annotated[ChatService, Depends(get_chat)]
Batcher = Annotated[QueryVectorBatcher, Depends(get_batcher)]
Caller = Annotated[str, Depends(require_key)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
