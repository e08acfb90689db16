"""FastAPI application: `create_app()` loads the index once per worker at start-up."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from assistant.api import errors
from assistant.api.ratelimit import SharedRateLimiter
from assistant.api.middleware import GuardMiddleware
from assistant.api.widget import widget_router
from assistant.api.routes import (
    admin_router,
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
            load_service(app, settings)
        # the loaded index is hundreds of thousands of long-lived objects: keep them out of
        # the garbage collector's full passes, which otherwise stall requests for tens of ms
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()

    app = FastAPI(title="区域品牌培育问答助手 API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    install_docs(app)
    app.state.settings = settings
    app.state.chat = chat
    app.state.problems = []  # why the service is not ready (for /readyz), when chat is None
    app.state.not_ready = None  # the error that content routes answer with then (503)
    app.state.limiter = SharedRateLimiter(settings.rate_limit_db, settings.rate_limit_per_minute)
    app.state.loaded_stamp = _kb_stamp(settings)
    app.state.reload_lock = None
    app.state.embed = None  # the embedding model documents are added with (None: the configured one)
    app.state.loader = load_service  # how a worker (re)opens the corpus and index

    async def reload_if_changed(force: bool = False) -> None:
        """Open the index again when the knowledge base changed (documents added or removed
        by this or another worker): meta.json and manifest.toml are stat()ed per request."""
        import asyncio

        import anyio.to_thread

        stamp = _kb_stamp(settings)
        if not force and stamp == app.state.loaded_stamp:
            return
        if app.state.reload_lock is None:
            app.state.reload_lock = asyncio.Lock()
        async with app.state.reload_lock:
            stamp = _kb_stamp(settings)
            if not force and stamp == app.state.loaded_stamp:
                return
            app.state.loaded_stamp = stamp
            await anyio.to_thread.run_sync(app.state.loader, app, settings)

    app.state.reload_if_changed = reload_if_changed
    errors.install(app)
    for r in (search_router, ask_router, documents_router, vocab_router, feedback_router, reports_router,
              admin_router, health_router, widget_router):
        app.include_router(r)
    # sites on a widget key's allow-list may also call the API from their own pages (CORS)
    origins = sorted(set(settings.cors_origin_list) | set(settings.widget_origin_list))
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    app.add_middleware(GuardMiddleware, settings=settings)
    logging.getLogger("assistant.api").setLevel(logging.INFO)
    return app


def _kb_stamp(settings: Settings) -> tuple:
    out = []
    for p in (settings.index_dir / "meta.json", settings.corpus_dir / "manifest.toml"):
        try:
            st = p.stat()
            out.append((st.st_mtime_ns, st.st_ino, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def load_service(app: FastAPI, settings: Settings) -> None:
    """Load the corpus and index for this worker. A corpus file that fails to load, or an
    index that fails its checks, leaves the worker up but not ready: /readyz answers 503
    with the problems, content routes 503 with the reason, nothing is answered from a
    partial corpus, and nothing in the index is changed (the serve command builds and
    checks the index before starting workers; workers only open it)."""
    from assistant.errors import AssistantError, CorpusIncompleteError
    from assistant.index.store import corpus_problems
    from assistant.service import make_chat, open_corpus, open_index

    log = logging.getLogger("assistant.api")
    app.state.loaded_stamp = _kb_stamp(settings)
    corpus = open_corpus(settings)
    if corpus.errors:
        app.state.chat = None
        app.state.problems = corpus_problems(corpus)
        app.state.not_ready = CorpusIncompleteError(app.state.problems)
        for p in app.state.problems:
            log.error("corpus file %s failed to load (%s): service not ready, index untouched", p["file"], p["reason"])
        return
    try:
        app.state.chat = make_chat(settings, open_index(settings, rebuild="never", corpus=corpus))
        app.state.problems, app.state.not_ready = [], None
    except AssistantError as exc:
        app.state.chat = None
        app.state.problems = [{"file": str(settings.index_dir), "reason": exc.message}]
        app.state.not_ready = exc
        log.error("index not loaded: %s", exc.message)


DOCS_STATIC = "/static/docs"


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from assets shipped in the fastapi-offline wheel:
    FastAPI's defaults load them from a CDN, which leaves both pages blank offline."""
    from importlib.resources import files

    app.mount(DOCS_STATIC, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})  # no badge fetched from validator.swagger.io

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_STATIC}/favicon.png", with_google_fonts=False)
