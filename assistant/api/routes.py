"""Routers, one per resource. Handlers translate between API models and the service layer."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

from pathlib import Path

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
import anyio.to_thread

from assistant.answer import render
from assistant.api.convert import (
    ask_response,
    clause_detail,
    clause_out,
    doc_fields,
    document_out,
    phases_out,
    roles_out,
    search_hit,
)
from assistant.api.deps import (
    AdminCaller,
    AppSettings,
    AskCaller,
    Batcher,
    Chat,
    FeedbackCaller,
    ReportsCaller,
    SearchCaller,
)
from assistant.api.schemas import (
    AdminTurn,
    AskRequest,
    AskResponse,
    ClauseDetail,
    ClauseOut,
    CuratedList,
    CuratedPairOut,
    CuratedRequest,
    DocumentDetail,
    DocumentOut,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    IngestReport,
    RemoveResponse,
    ReportRequest,
    ReportResponse,
    SearchRequest,
    SearchResponse,
    VocabItem,
)
from assistant.errors import InvalidQueryError
from assistant.retrieval.retriever import SearchFilters
from assistant.service import complete_deferred_vectors

log = logging.getLogger("assistant.api")
ERRORS = {401: {"model": ErrorResponse, "description": "缺少或无效的 API 密钥"},
          408: {"model": ErrorResponse, "description": "请求体未在时限内发送完毕（BA_BODY_TIMEOUT，默认 10 秒）"},
          413: {"model": ErrorResponse, "description": "请求体过大（含分块传输的请求体）"},
          415: {"model": ErrorResponse, "description": "Content-Type 不是 application/json"},
          422: {"model": ErrorResponse, "description": "请求内容不合法（中文说明见 detail）：字段缺失、类型或取值不对、"
                                                       "JSON 格式错误，或请求体不是合法的 UTF-8 编码（code = invalid_encoding）"},
          429: {"model": ErrorResponse, "description": "请求过于频繁（见 Retry-After）；密钥错误过多也会如此"},
          503: {"model": ErrorResponse, "description": "依赖暂不可用（向量库、会话存储）或语料不完整，见 detail 与 "
                                                       "Retry-After；GET /readyz 给出原因"}}

search_router = APIRouter(prefix="/v1", tags=["检索 search"])
ask_router = APIRouter(prefix="/v1", tags=["问答 ask"])
documents_router = APIRouter(prefix="/v1", tags=["文件与条款 documents"])
vocab_router = APIRouter(prefix="/v1", tags=["词表 vocabularies"])
feedback_router = APIRouter(prefix="/v1", tags=["反馈 feedback"])
reports_router = APIRouter(prefix="/v1", tags=["试点文稿 reports"])
health_router = APIRouter(tags=["运行状态 health"])


def _log_question(request: Request, settings, text: str) -> None:
    """For the access-log line of this request: a fingerprint and length of the question,
    its text only with BA_LOG_QUESTIONS=1 (assistant/api/access_log.py)."""
    request.state.question = text


async def run_in_threadpool(fn, *args, **kwargs):
    """CPU-bound work in a small per-worker pool: a few threads, not 40, so that
    concurrent requests queue instead of thrashing the GIL and the BLAS threads."""
    import functools

    limiter = _limiter()
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)


_LIMITER: anyio.CapacityLimiter | None = None
_IO_LIMITER: anyio.CapacityLimiter | None = None


def _limiter() -> anyio.CapacityLimiter:
    global _LIMITER
    if _LIMITER is None:
        _LIMITER = anyio.CapacityLimiter(2)
    return _LIMITER


async def run_waiting_on_chroma(fn, *args, **kwargs):
    """Work that waits on the Chroma server (network, up to BA_CHROMA_TIMEOUT): off the
    event loop, in a pool of its own, so a slow or frozen server stalls neither the loop
    nor the CPU-bound pool."""
    import functools

    global _IO_LIMITER
    if _IO_LIMITER is None:
        _IO_LIMITER = anyio.CapacityLimiter(16)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=_IO_LIMITER)


def _check_len(settings, text: str, what: str) -> None:
    if len(text) > settings.max_query_chars:
        raise InvalidQueryError(f"{what}过长（{len(text)} 字），请控制在 {settings.max_query_chars} 字以内。")


# --- search -------------------------------------------------------------------------

@search_router.post("/search", response_model=SearchResponse, responses=ERRORS,
                    summary="检索条款 Search clauses")
async def search(body: SearchRequest, request: Request, chat: Chat, settings: AppSettings, _: SearchCaller,
                 batcher: Batcher):
    _check_len(settings, body.query, "检索内容")
    _log_question(request, settings, body.query)
    f = body.filters
    filters = SearchFilters(doc_ids=f.doc_ids, roles=f.roles, phases=f.phases, strengths=list(f.strengths))
    filters.validate(chat.index)  # bad filter values fail before any embedding work
    vector = await batcher.vector(body.query)  # embedded together with concurrent requests
    if chat.index.vectors is None and chat.retriever.mode != "bm25":
        # the dense side asks the Chroma server: never on the event loop
        hits = await run_waiting_on_chroma(chat.retriever.search, body.query, filters, body.top_k,
                                           query_vector=vector)
    else:  # in memory: CPU-bound and well under a millisecond, inline, no thread-pool hop
        hits = chat.retriever.search(body.query, filters, body.top_k, query_vector=vector)
    return SearchResponse(query=body.query, hits=[search_hit(h, chat.index.corpus) for h in hits])


# --- ask ----------------------------------------------------------------------------

async def _answer(body: AskRequest, request: Request, chat, settings, caller):
    # empty and over-long questions are refused by chat.ask (ChatService.check_question)
    _log_question(request, settings, body.question)
    return await run_in_threadpool(chat.ask_turn, body.question, role=body.role, phase=body.phase,
                                   doc_ids=body.doc_ids, session_id=body.session_id, owner=caller.owner)


ASK_ERRORS = {**ERRORS, 404: {"model": ErrorResponse, "description": "会话不存在或不属于当前密钥"}}


@ask_router.post("/ask", response_model=AskResponse, responses=ASK_ERRORS, summary="提问 Ask a question")
async def ask(body: AskRequest, request: Request, chat: Chat, settings: AppSettings, caller: AskCaller):
    r = await _answer(body, request, chat, settings, caller)
    return ask_response(r.answer, r.session_id, r.turn, stored=r.stored)


@ask_router.post("/ask/stream", responses={**ASK_ERRORS, 200: {"content": {"text/event-stream": {}},
                                                              "description": "SSE：meta（会话、coverage、missing、stored）、direct（直接答复）、"
                                                                             "point（每个要点一条）、related、citations、done（完整答复）"}},
                 summary="提问（SSE 流式）Ask, as Server-Sent Events")
async def ask_stream(body: AskRequest, request: Request, chat: Chat, settings: AppSettings, caller: AskCaller):
    r = await _answer(body, request, chat, settings, caller)  # errors surface as JSON before the stream starts
    result = ask_response(r.answer, r.session_id, r.turn, stored=r.stored)

    async def events():
        def ev(name: str, data) -> str:
            return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

        for name, data in render.sse_events(r.answer, {"session_id": r.session_id, "turn": r.turn,
                                                       "stored": r.stored}):
            yield ev(name, data)
            await asyncio.sleep(0)
        yield ev("done", result.model_dump())

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- documents and clauses ------------------------------------------------------------

@documents_router.get("/documents", response_model=list[DocumentOut], responses=ERRORS, summary="文件列表")
async def documents(chat: Chat, _: SearchCaller):
    corpus = chat.index.corpus
    return [document_out(d, corpus.vocab, chat.index.vectors_pending) for d in corpus.documents.values()]


@documents_router.get("/documents/{doc_id}", response_model=DocumentDetail,
                      responses={**ERRORS, 404: {"model": ErrorResponse, "description": "未知文件（列出可用编号）"}},
                      summary="文件详情与章目录")
async def document(doc_id: str, chat: Chat, _: SearchCaller):
    doc = chat.index.corpus.doc(doc_id)
    top = [clause_out(u) for u in doc.units if u.parent is None]
    return DocumentDetail(**doc_fields(doc, chat.index.corpus.vocab), chapters=top)


@documents_router.get("/documents/{doc_id}/clauses", response_model=ClauseDetail | list[ClauseOut],
                      responses={**ERRORS, 404: {"model": ErrorResponse, "description": "未知文件或条款（列出相近条款）"}},
                      summary="条款（带 label 时返回该条款及下级；否则返回全部条款）")
async def clauses(doc_id: str, chat: Chat, _: SearchCaller,
                  label: Annotated[str | None, Query(max_length=100, description="条款标号，如 6.4.4 b) 或 三（五）")] = None):
    doc = chat.index.corpus.doc(doc_id)
    if label is None or not label.strip():
        return [clause_out(u) for u in doc.units]
    return clause_detail(doc, doc.find(label))


ADMIN_ERRORS = {**ERRORS, 403: {"model": ErrorResponse, "description": "不是管理员密钥（BA_ADMIN_KEYS）"},
                409: {"model": ErrorResponse, "description": "文件编号已存在（未加 replace）或知识库冲突"},
                413: {"model": ErrorResponse, "description": "文件超过 BA_MAX_UPLOAD_MB"},
                415: {"model": ErrorResponse, "description": "不是 multipart/form-data"},
                422: {"model": ErrorResponse, "description": "文件无法使用（损坏、加密、无文字层且无 OCR、无编号条款……），"
                                                             "detail 指明文件与问题"}}


def _ingest_and_add(request: Request, settings, name: str, data: bytes, form: dict) -> dict:
    """Parse the upload (and, unless dry_run, add it): runs in the worker's thread pool."""
    from assistant.corpus.vocab import load_vocab
    from assistant.ingest.kb import KnowledgeBase
    from assistant.ingest.ocr import OcrOptions, make_engine
    from assistant.ingest.pipeline import ingest_file

    result = ingest_file(Path(name), load_vocab(settings.vocab_dir), data=data,
                         max_bytes=int(settings.max_upload_mb * 2**20),
                         ocr_engine=make_engine(settings.ocr_engine, OcrOptions.from_settings(settings)),
                         **{k: v for k, v in form.items() if k in ("doc_id", "code", "title", "nature", "issuer")})
    report = {**result.report(), "dry_run": form["dry_run"]}
    if form["dry_run"]:
        return report
    meta = KnowledgeBase(settings, embed=request.app.state.embed).add(result, data=data, replace=form["replace"],
                                                                      defer_vectors=True)
    return {**report, "added": True, "replaced": meta.pop("replaced", False), "index": meta}


@documents_router.post("/documents", response_model=IngestReport, responses=ADMIN_ERRORS,
                       summary="添加文件（管理员）：PDF（含扫描件）、DOCX、HTML、TXT、MD；dry_run 只返回解析报告")
async def add_document(request: Request, settings: AppSettings, _: AdminCaller, background: BackgroundTasks,
                       file: Annotated[UploadFile, File(description="文件")],
                       dry_run: Annotated[bool, Form(description="只解析、不写入")] = False,
                       replace: Annotated[bool, Form(description="替换同编号的旧版本")] = False,
                       doc_id: Annotated[str | None, Form(max_length=63)] = None,
                       code: Annotated[str | None, Form(max_length=100)] = None,
                       title: Annotated[str | None, Form(max_length=200)] = None,
                       nature: Annotated[str | None, Form(max_length=40)] = None,
                       issuer: Annotated[str | None, Form(max_length=100)] = None):
    data = await file.read()
    name = Path(file.filename or "upload").name
    form = {"dry_run": dry_run, "replace": replace, "doc_id": doc_id or None, "code": code, "title": title or None,
            "nature": nature or None, "issuer": issuer}
    report = await run_in_threadpool(_ingest_and_add, request, settings, name, data, form)
    if not dry_run:
        await request.app.state.reload_if_changed(force=True)
        if report["index"].get("dense_pending"):  # embedded after the response (module doc of ingest/kb.py)
            # workers reopen the finished index when they see meta.json change
            background.add_task(complete_deferred_vectors, settings, request.app.state.embed)
    return report


@documents_router.delete("/documents/{doc_id}", response_model=RemoveResponse, responses=ADMIN_ERRORS,
                         summary="删除文件（管理员）：语料、清单与索引")
async def remove_document(doc_id: str, request: Request, settings: AppSettings, _: AdminCaller):
    from assistant.ingest.kb import KnowledgeBase

    meta = await run_in_threadpool(KnowledgeBase(settings, embed=request.app.state.embed).remove, doc_id)
    await request.app.state.reload_if_changed(force=True)
    return RemoveResponse(doc_id=doc_id, removed=True, index={k: v for k, v in meta.items() if k != "title"})


# --- vocabularies ---------------------------------------------------------------------

@vocab_router.get("/roles", response_model=list[VocabItem], responses=ERRORS, summary="角色词表")
async def roles(chat: Chat, _: SearchCaller):
    return roles_out(chat.index.corpus.vocab)


@vocab_router.get("/phases", response_model=list[VocabItem], responses=ERRORS, summary="阶段词表")
async def phases(chat: Chat, _: SearchCaller):
    return phases_out(chat.index.corpus.vocab)


# --- feedback ---------------------------------------------------------------------------

@feedback_router.post("/feedback", response_model=FeedbackResponse, responses={
    **ERRORS, 404: {"model": ErrorResponse, "description": "会话或轮次不存在（或会话不属于当前密钥）"}},
    summary="答复反馈 👍/👎")
async def feedback(body: FeedbackRequest, chat: Chat, caller: FeedbackCaller):
    fid = await run_in_threadpool(chat.feedback, body.session_id, body.turn, body.rating, body.comment,
                                  owner=caller.owner)
    return FeedbackResponse(id=fid)


# --- report drafting ---------------------------------------------------------------------

def _draft(body: ReportRequest, chat):
    from assistant.reports.form import parse_form

    return chat.drafter.draft(body.type, parse_form(body.form, chat.index.corpus))


@reports_router.get("/reports/fields", responses=ERRORS, summary="表单可填栏目（状态选项、指标、说明、典型经验六部分）")
async def report_fields(chat: Chat, _: ReportsCaller):
    from assistant.reports.form import form_fields

    return form_fields(chat.index.corpus)


@reports_router.post("/reports/draft", response_model=ReportResponse, responses=ERRORS,
                     summary="起草试点文稿（JSON）")
async def report_draft(body: ReportRequest, chat: Chat, _: ReportsCaller):
    from assistant.reports.export import checklist_markdown, to_dict, to_markdown

    draft = await run_in_threadpool(_draft, body, chat)
    d = to_dict(draft)
    return ReportResponse(type=draft.kind, title=draft.title, unit=draft.unit, markdown=to_markdown(draft),
                          checklist_markdown=checklist_markdown(draft), checks=d["checks"], citations=d["citations"],
                          blocks=d["blocks"])


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_response(data: bytes, name: str):
    from urllib.parse import quote

    from fastapi.responses import Response

    return Response(data, media_type=_DOCX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@reports_router.post("/reports/draft.docx", responses={**ERRORS, 200: {"content": {_DOCX: {}}, "description": "DOCX 文件"}},
                     summary="起草试点文稿（下载 DOCX：公文格式的草稿，只含提交内容）")
async def report_draft_docx(body: ReportRequest, chat: Chat, _: ReportsCaller):
    from assistant.reports.export import to_docx

    draft = await run_in_threadpool(_draft, body, chat)
    return _docx_response(await run_in_threadpool(to_docx, draft), f"{draft.title}.docx")


@reports_router.post("/reports/checklist.docx", responses={**ERRORS, 200: {"content": {_DOCX: {}},
                                                                           "description": "DOCX 文件"}},
                     summary="草稿的检查清单（下载 DOCX：检查结果、原文要求、评分项与可引用条款）")
async def report_checklist_docx(body: ReportRequest, chat: Chat, _: ReportsCaller):
    from assistant.reports.export import checklist_docx, checklist_title

    draft = await run_in_threadpool(_draft, body, chat)
    return _docx_response(await run_in_threadpool(checklist_docx, draft), f"{checklist_title(draft)}.docx")


# --- admin: conversations, feedback, curated pairs (BA_ADMIN_KEYS) ------------------------

ADMIN_ERRORS = {**ERRORS, 403: {"model": ErrorResponse, "description": "需要管理员密钥（BA_ADMIN_KEYS）"}}
admin_router = APIRouter(prefix="/v1/admin", tags=["管理 admin"])


@admin_router.get("/turns", response_model=list[AdminTurn], responses=ADMIN_ERRORS,
                  summary="对话与反馈（最新在前）")
async def admin_turns(chat: Chat, _: AdminCaller,
                      feedback: Annotated[str, Query(pattern="^(all|rated|down|up)$",
                                                     description="all 全部；rated 有反馈；down 👎；up 👍")] = "all",
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      session_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None):
    return await run_in_threadpool(chat.admin_turns, feedback, limit, session_id)


@admin_router.get("/curated", response_model=CuratedList, responses=ADMIN_ERRORS, summary="纠正（问题 → 条款）列表")
async def admin_curated(chat: Chat, _: AdminCaller):
    store = chat.curated
    store.reload_if_changed()
    return CuratedList(pairs=[chat.pair_dict(p) for p in reversed(store.pairs)], problems=store.problems,
                       directory=str(store.path))


@admin_router.post("/curated", response_model=CuratedPairOut, responses={
    **ADMIN_ERRORS, 404: {"model": ErrorResponse, "description": "所指会话或轮次不存在"}},
    summary="保存纠正：问题 → 条款（条款须在文件中存在；写入 corpus/curated/admin.jsonl）")
async def admin_curate(body: CuratedRequest, chat: Chat, caller: AdminCaller):
    pair = await run_in_threadpool(chat.curate, body.question, [(u.doc_id, u.clause) for u in body.units],
                                   note=body.note, session_id=body.session_id, turn=body.turn, author=caller.key_id)
    return chat.pair_dict(pair)


@admin_router.delete("/curated/{pair_id}", responses={**ADMIN_ERRORS, 404: {"model": ErrorResponse}},
                     summary="删除一条纠正")
async def admin_uncurate(pair_id: str, chat: Chat, _: AdminCaller):
    if not await run_in_threadpool(chat.curated.remove, pair_id):
        raise HTTPException(404, f"没有编号为 {pair_id} 的纠正。")
    return {"deleted": pair_id}


# --- health -----------------------------------------------------------------------------

@health_router.get("/healthz", summary="进程存活")
async def healthz():
    return {"status": "ok"}


@health_router.get("/readyz", summary="可以作答：语料与索引完整、依赖可用", responses={503: {
    "description": "未就绪：problems 列出原因（语料文件、索引、Chroma 服务器）"}})
async def readyz(request: Request):
    """ready = every corpus file loaded, the index passed its checks and the vector store
    answers. The session store is reported but does not make the service unready:
    search and documents work without it and ask answers with stored=false."""
    state = request.app.state
    chat = getattr(state, "chat", None)
    if chat is None:
        problems = state.problems or [{"file": None, "reason": "索引尚未加载。"}]
        return JSONResponse({"ready": False, "problems": problems}, status_code=503)
    settings = state.settings
    deps: dict[str, dict] = {}
    collection = chat.index.vector_store.client if chat.index.vector_store is not None else None
    if settings.chroma_host and hasattr(collection, "status"):
        deps["chroma"] = {**await anyio.to_thread.run_sync(collection.status),
                          "server": f"{settings.chroma_host}:{settings.chroma_port}"}
    else:
        deps["chroma"] = {"ok": True, "detail": "内嵌（进程内）"}
    store = getattr(chat, "store", None)
    if store is not None:
        ok = await anyio.to_thread.run_sync(store.probe)
        deps["sessions"] = {"ok": ok, "detail": "可读写" if ok else store.error}
    problems = [{"dependency": k, "reason": v["detail"]} for k, v in deps.items() if not v["ok"] and k == "chroma"]
    meta = chat.index.meta
    body = {"ready": not problems, "problems": problems, "dependencies": deps,
            "degraded": [k for k, v in deps.items() if not v["ok"] and k != "chroma"],
            "nodes": len(chat.index.nodes), "embedding": meta.get("embedding"),
            "vector_store": "chroma-server" if settings.chroma_host else "chroma-embedded",
            "dense_search": "memory" if chat.index.vectors is not None else "chroma"}
    return JSONResponse(body, status_code=200 if body["ready"] else 503)
