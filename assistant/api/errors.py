"""The one place that maps errors to HTTP status codes and Chinese messages."""

from __future__ import annotations

import errno
import logging
import sqlite3

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.ingest.errors import DocumentExistsError, IngestError
from assistant.ingest.kb import KnowledgeBaseError
from assistant.reports.form import FormError
from assistant.errors import (
    AssistantError,
    CorpusIncompleteError,
    CuratedPairError,
    DependencyUnavailableError,
    ForbiddenError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidQueryError,
    UnknownClauseError,
    UnknownDocumentError,
    UnknownSessionError,
    UnknownTurnError,
)

log = logging.getLogger("assistant.api")

STATUS = [
    (UnknownClauseError, 404, "unknown_clause"),
    (UnknownDocumentError, 404, "unknown_document"),
    (UnknownSessionError, 404, "unknown_session"),
    (UnknownTurnError, 404, "unknown_turn"),
    (ForbiddenError, 403, None),  # forbidden | origin_not_allowed, from the exception
    (CuratedPairError, 422, "invalid_curated_pair"),
    (DependencyUnavailableError, 503, None),  # code and Retry-After from the exception
    (CorpusIncompleteError, 503, "corpus_incomplete"),
    (InvalidQueryError, 422, "invalid_request"),
    (DocumentExistsError, 409, "document_exists"),
    (KnowledgeBaseError, 409, "knowledge_base_conflict"),
    (IngestError, 422, None),  # code from the exception (invalid_document, no_clauses, too_large → 413)
    (FormError, 422, "invalid_form"),
    (IndexNotFoundError, 503, "index_not_ready"),
    (IndexMismatchError, 503, "index_not_ready"),
    (AssistantError, 400, "bad_request"),
]

_FIELD_ZH = {"query": "检索内容", "question": "问题", "top_k": "top_k", "filters": "筛选条件",
             "doc_ids": "文件编号", "roles": "角色", "phases": "阶段", "strengths": "强度",
             "session_id": "会话编号", "turn": "轮次", "rating": "评价", "comment": "评语",
             "role": "角色", "phase": "阶段", "label": "条款标号", "units": "条款", "note": "说明",
             "limit": "条数", "rating_filter": "评价"}


def _rid(request: Request) -> str:
    return getattr(request.state, "request_id", "")


def error_dict(rid: str, code: str, message: str, **extra) -> dict:
    body = {"detail": message, "code": code, "request_id": rid}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def error_body(request: Request, code: str, message: str, **extra) -> dict:
    return error_dict(_rid(request), code, message, **extra)


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO, errno.EFBIG}
STORAGE_DETAIL = "数据存储暂不可用（磁盘已满、只读或文件损坏），请稍后重试或联系管理员。"
UPSTREAM_DETAIL = "依赖的服务暂时无法访问，请稍后重试。"
INTERNAL_DETAIL = "服务内部错误，请稍后重试；如持续出现请联系管理员并提供请求编号。"


def unexpected_response(exc: BaseException, rid: str, scope=None) -> tuple[int, dict, dict[str, str]]:
    """What an exception that no route turned into a response becomes (status, body,
    headers): SQLite and HTTP-client errors are a dependency that failed (503), anything
    else an internal error (500). The middleware sends it; nothing reaches the server."""
    where = f"{scope.get('method')} {scope.get('path')}" if scope else ""
    if isinstance(exc, AssistantError):  # a domain error raised outside a route
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                code = getattr(exc, "code", None) if code is None else code
                status = 413 if getattr(exc, "code", None) == "too_large" else status
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, DependencyUnavailableError) else {}
                return status, error_dict(rid, code or "bad_request", exc.message), headers
    if isinstance(exc, sqlite3.Error) or (isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS):
        log.error("storage error request_id=%s %s: %s: %s", rid, where, type(exc).__name__, exc)
        return 503, error_dict(rid, "storage_unavailable", STORAGE_DETAIL), {"Retry-After": "30"}
    if isinstance(exc, (httpx.HTTPError, OSError)):  # a connection to something else failed
        log.error("upstream error request_id=%s %s: %s: %s", rid, where, type(exc).__name__, exc)
        return 503, error_dict(rid, "dependency_unavailable", UPSTREAM_DETAIL), {"Retry-After": "5"}
    log.error("unhandled error request_id=%s %s", rid, where, exc_info=exc)
    return 500, error_dict(rid, "internal_error", INTERNAL_DETAIL), {}


def _ranges() -> dict[str, tuple]:
    """Numeric bounds of the request fields, read from the schemas (field → (min, max))."""
    from assistant.api import schemas

    out: dict[str, tuple] = {}
    for model in (schemas.SearchRequest, schemas.FeedbackRequest):
        for name, f in model.model_fields.items():
            lo = next((m.ge for m in f.metadata if hasattr(m, "ge")), None)
            hi = next((m.le for m in f.metadata if hasattr(m, "le")), None)
            if lo is not None or hi is not None:
                out[name] = (lo, hi)
    return out


def _range_text(name: str, field: str, e: dict) -> str:
    lo, hi = _ranges().get(name, (None, None))
    got = e.get("input")
    got = f"（收到 {got}）" if isinstance(got, (int, float)) and not isinstance(got, bool) else ""
    if lo is not None and hi is not None:
        return f"「{field}」超出允许范围，应在 {lo} 到 {hi} 之间{got}"
    ctx = e.get("ctx") or {}
    bound = next((f"{k} {v}" for k, v in ctx.items()), "")
    return f"「{field}」超出允许范围（{bound}）{got}"


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for e in errors[:5]:
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "query", "path") and not isinstance(x, int)]
        field = _FIELD_ZH.get(loc[-1], loc[-1]) if loc else "请求"
        t = e.get("type", "")
        if t == "json_invalid":
            return "请求体不是合法的 JSON。"
        if t == "missing":
            parts.append(f"缺少字段「{field}」")
        elif t == "string_too_short" or (t == "value_error" and "blank" in str(e.get("msg", ""))):
            parts.append(f"「{field}」不能为空")
        elif t in ("string_too_long", "too_long"):
            parts.append(f"「{field}」过长")
        elif t == "extra_forbidden":
            parts.append(f"不支持的字段「{field}」")
        elif t == "string_pattern_mismatch":
            parts.append(f"「{field}」格式不正确")
        elif t.startswith(("greater", "less")):
            parts.append(_range_text(loc[-1] if loc else "", field, e))
        elif t == "list_type":
            parts.append(f"「{field}」应为列表，如 [\"…\"]")
        elif t in ("int_type", "int_parsing", "int_from_float"):
            parts.append(f"「{field}」应为整数")
        elif t in ("string_type",):
            parts.append(f"「{field}」应为文字")
        elif t in ("model_type", "dict_type", "model_attributes_type"):
            parts.append(f"「{field}」应为对象（键值表）")
        elif t in ("literal_error", "enum"):
            parts.append(f"「{field}」取值不在允许范围内")
        else:
            parts.append(f"「{field}」类型或取值不正确")
    return "；".join(dict.fromkeys(parts)) + "。"


def install(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def _domain(request: Request, exc: AssistantError):
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                extra, headers = {}, None
                if isinstance(exc, UnknownDocumentError):
                    extra["valid"] = exc.valid
                if isinstance(exc, (UnknownClauseError, CuratedPairError)) and exc.near:
                    extra["near"] = exc.near
                if isinstance(exc, ForbiddenError):
                    code = exc.code
                if isinstance(exc, DependencyUnavailableError):
                    code = exc.code
                    headers = {"Retry-After": str(exc.retry_after)}
                    log.warning("request_id=%s %s unavailable: %s", _rid(request), exc.dependency, exc.message)
                if isinstance(exc, IngestError):
                    code = exc.code
                    status = 413 if exc.code == "too_large" else status
                return JSONResponse(error_body(request, code, exc.message, **extra), status_code=status,
                                    headers=headers)
        return JSONResponse(error_body(request, "bad_request", exc.message), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse(error_body(request, "invalid_request", _validation_message(exc.errors())),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {404: "没有这个接口。", 405: "该接口不支持此请求方法。", 401: "缺少或无效的 API 密钥。",
                    403: "无权访问。"}
        detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else \
            messages.get(exc.status_code, "请求无法处理。")
        return JSONResponse(error_body(request, f"http_{exc.status_code}", detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def _dependency(request: Request, exc: Exception):
        status, body, headers = unexpected_response(exc, _rid(request), request.scope)
        return JSONResponse(body, status_code=status, headers=headers)

    # handled inside the app (Starlette's ExceptionMiddleware): a 503 JSON, nothing re-raised
    for cls in (sqlite3.Error, httpx.HTTPError):
        app.add_exception_handler(cls, _dependency)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # reached only if the guard middleware itself failed: it answers everything else
        status, body, headers = unexpected_response(exc, _rid(request), request.scope)
        return JSONResponse(body, status_code=status, headers=headers)
