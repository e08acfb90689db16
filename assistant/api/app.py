"""FastAPI application: `create_app()` loads the index once per worker at start-up."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.api import errors
from assistant.api.deps import RateLimiter
from assistant.api.middleware import GuardMiddleware
from assistant.api.routes import (
    ask_router,
    documents_router,
    feedback_router,
    health_router,
    reports_router,
    search_router,
    vocab_router,
)
from assistant.settings import Settings, get_settings

DESCRIPTION = """区域品牌培育标准与政策问答接口：条款检索、带可核验引用的问答、文件与条款浏览、反馈。

Retrieval and grounded answers over Chinese standards and policy documents on regional brand
cultivation. Every citation resolves to a real clause and its quote is verbatim.

鉴权：请求头 `X-API-Key`（服务端以 `BA_API_KEYS` 配置）；本地单用户可开启 `BA_OPEN_MODE=1`。
错误：统一返回 `{detail（中文说明）, code, request_id}`。"""


def create_app(settings: Settings | None = None, chat=None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.chat is None:
            from assistant.service import make_chat, open_index

            # the serve command built/validated the index before starting workers
            app.state.chat = make_chat(settings, open_index(settings, rebuild="never"))
        # the loaded index is hundreds of thousands of long-lived objects: keep them out of
        # the garbage collector's full passes, which otherwise stall requests for tens of ms
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()

    app = FastAPI(title="区域品牌培育问答助手 API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.chat = chat
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    errors.install(app)
    for r in (search_router, ask_router, documents_router, vocab_router, feedback_router, reports_router,
              health_router):
        app.include_router(r)
    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    logging.getLogger("assistant.api").setLevel(logging.INFO)
    return app
