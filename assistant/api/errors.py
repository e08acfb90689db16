"""The one place that maps errors to HTTP status codes and Chinese messages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.reports.form import FormError
from assistant.errors import (
    AssistantError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidQueryError,
    UnknownClauseError,
    UnknownDocumentError,
)

log = logging.getLogger("assistant.api")

STATUS = [
    (UnknownClauseError, 404, "unknown_clause"),
    (UnknownDocumentError, 404, "unknown_document"),
    (InvalidQueryError, 422, "invalid_request"),
    (FormError, 422, "invalid_form"),
    (IndexNotFoundError, 503, "index_not_ready"),
    (IndexMismatchError, 503, "index_not_ready"),
    (AssistantError, 400, "bad_request"),
]

_FIELD_ZH = {"query": "检索内容", "question": "问题", "top_k": "top_k", "filters": "筛选条件",
             "doc_ids": "文件编号", "roles": "角色", "phases": "阶段", "strengths": "强度",
             "session_id": "会话编号", "turn": "轮次", "rating": "评价", "comment": "评语",
             "role": "角色", "phase": "阶段", "label": "条款标号"}


def _rid(request: Request) -> str:
    return getattr(request.state, "request_id", "")


def error_body(request: Request, code: str, message: str, **extra) -> dict:
    body = {"detail": message, "code": code, "request_id": _rid(request)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for e in errors[:5]:
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "query", "path")]
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
            parts.append(f"「{field}」超出允许范围")
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
                extra = {}
                if isinstance(exc, UnknownDocumentError):
                    extra["valid"] = exc.valid
                if isinstance(exc, UnknownClauseError):
                    extra["near"] = exc.near
                return JSONResponse(error_body(request, code, exc.message, **extra), status_code=status)
        return JSONResponse(error_body(request, "bad_request", exc.message), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return JSONResponse(error_body(request, "invalid_request", _validation_message(exc.errors())),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {404: "没有这个接口。", 405: "该接口不支持此请求方法。", 401: "缺少或无效的 API 密钥。"}
        detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else \
            messages.get(exc.status_code, "请求无法处理。")
        return JSONResponse(error_body(request, f"http_{exc.status_code}", detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error request_id=%s", _rid(request))
        return JSONResponse(error_body(request, "internal_error", "服务内部错误，请稍后重试；如持续出现请联系管理员并提供请求编号。"),
                            status_code=500)
