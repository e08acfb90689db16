"""What the Streamlit UI talks to: the in-process service layer, or a remote API.

Both backends return the API's JSON shapes, so the UI has one code path and no
retrieval or answer logic of its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from assistant.api import convert
from assistant.errors import AssistantError, ForbiddenError, InvalidQueryError
from assistant.settings import Settings


class BackendError(AssistantError):
    """A remote API answered with an error (message in Chinese from the API)."""


class LocalBackend:
    """The service layer in this process, returning the API's response models as dicts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.vector_job: threading.Thread | None = None  # deferred passage vectors of the last add
        self.reload()

    def reload(self) -> None:
        from assistant.service import make_chat, open_index

        self.chat = make_chat(self.settings, open_index(self.settings))
        self.corpus = self.chat.index.corpus

    def can_manage(self, admin_key: str | None) -> bool:
        """Local UI: the operator of a single-user install (BA_OPEN_MODE=1, as `make run` sets)
        or whoever gives an admin key (BA_ADMIN_KEYS)."""
        from assistant.api.deps import match_key

        if self.settings.admin_key_list:
            return match_key(admin_key, self.settings.admin_key_list) is not None or \
                (self.settings.open_mode and not self.settings.api_key_list and not admin_key)
        return self.settings.open_mode and not self.settings.api_key_list

    def _check_admin(self, admin_key: str | None) -> None:
        if not self.can_manage(admin_key):
            raise BackendError("需要管理员密钥（BA_ADMIN_KEYS）才能修改知识库。")

    def add_document(self, name: str, data: bytes, *, dry_run: bool, replace: bool = False,
                     meta: dict | None = None, progress=None, admin_key: str | None = None) -> dict:
        from assistant.corpus.vocab import load_vocab
        from assistant.ingest.kb import KnowledgeBase
        from assistant.ingest.ocr import OcrOptions, make_engine
        from assistant.ingest.pipeline import ingest_file

        if not dry_run:
            self._check_admin(admin_key)
        s = self.settings
        result = ingest_file(Path(name), load_vocab(s.vocab_dir), data=data, max_bytes=int(s.max_upload_mb * 2**20),
                             ocr_engine=make_engine(s.ocr_engine, OcrOptions.from_settings(s)), progress=progress,
                             **{k: v for k, v in (meta or {}).items() if v is not None})
        report = {**result.report(), "dry_run": dry_run}
        if dry_run:
            return report
        index_meta = KnowledgeBase(s).add(result, data=data, replace=replace, progress=progress, defer_vectors=True)
        self.reload()
        if index_meta.get("dense_pending"):  # searchable by its words now; the vectors follow
            self.vector_job = threading.Thread(target=self._complete_vectors, name="deferred-vectors", daemon=True)
            self.vector_job.start()
        return {**report, "added": True, "replaced": index_meta.pop("replaced", False), "index": index_meta}

    def _complete_vectors(self) -> None:
        from assistant.service import complete_deferred_vectors

        if complete_deferred_vectors(self.settings) is not None:
            self.reload()

    def remove_document(self, doc_id: str, admin_key: str | None = None) -> dict:
        from assistant.ingest.kb import KnowledgeBase

        self._check_admin(admin_key)
        meta = KnowledgeBase(self.settings).remove(doc_id)
        self.reload()
        return {"doc_id": doc_id, "removed": True, "index": meta}

    # -- admin (the same checks as the API's admin routes) ----------------------------
    @property
    def admin_configured(self) -> bool:
        return bool(self.settings.admin_key_list)

    def _admin(self, key: str | None) -> str:
        from assistant.api.deps import key_id, match_key

        found = match_key(key, self.settings.admin_key_list)
        if found is None:
            raise ForbiddenError("管理员密钥不正确。" if self.settings.admin_key_list else
                                 "未配置管理员密钥（BA_ADMIN_KEYS），管理功能不可用。")
        return key_id(found)

    def check_admin(self, key: str | None) -> None:
        self._admin(key)

    def admin_turns(self, key: str | None, feedback: str = "all", limit: int = 100) -> list[dict]:
        self._admin(key)
        return self.chat.admin_turns(feedback, limit)

    def admin_curated(self, key: str | None) -> dict:
        self._admin(key)
        store = self.chat.curated
        store.reload_if_changed()
        return {"pairs": [self.chat.pair_dict(p) for p in reversed(store.pairs)], "problems": store.problems,
                "directory": str(store.path)}

    def curate(self, key: str | None, question: str, units: list, note: str = "", session_id: str | None = None,
               turn: int | None = None) -> dict:
        author = self._admin(key)
        return self.chat.pair_dict(self.chat.curate(question, units, note=note, session_id=session_id, turn=turn,
                                                    author=author))

    def remove_curated(self, key: str | None, pair_id: str) -> bool:
        self._admin(key)
        return self.chat.curated.remove(pair_id)

    def ask(self, question: str, *, role=None, phase=None, doc_ids=None, session_id=None) -> dict:
        r = self.chat.ask_turn(question, role=role, phase=phase, doc_ids=doc_ids or None, session_id=session_id)
        return convert.ask_response(r.answer, r.session_id, r.turn, stored=r.stored).model_dump()

    def search(self, query: str, filters: dict | None = None, top_k: int = 10) -> list[dict]:
        from assistant.retrieval.retriever import SearchFilters

        hits = self.chat.retriever.search(query, SearchFilters(**(filters or {})), top_k=top_k)
        return [convert.search_hit(h, self.corpus).model_dump() for h in hits]

    def documents(self) -> list[dict]:
        pending = self.chat.index.vectors_pending
        return [convert.document_out(d, self.corpus.vocab, pending).model_dump()
                for d in self.corpus.documents.values()]

    def clauses(self, doc_id: str) -> list[dict]:
        return [convert.clause_out(u).model_dump() for u in self.corpus.doc(doc_id).units]

    def clause(self, doc_id: str, label: str) -> dict:
        doc = self.corpus.doc(doc_id)
        return convert.clause_detail(doc, doc.find(label)).model_dump()

    def roles(self) -> list[dict]:
        return [r.model_dump() for r in convert.roles_out(self.corpus.vocab)]

    def phases(self) -> list[dict]:
        return [p.model_dump() for p in convert.phases_out(self.corpus.vocab)]

    def feedback(self, session_id: str, turn: int, rating: int, comment: str = "") -> None:
        self.chat.feedback(session_id, turn, rating, comment)

    def report_fields(self) -> dict:
        from assistant.reports.form import form_fields

        return form_fields(self.corpus)

    def _draft(self, kind: str, form: dict):
        from assistant.reports.form import parse_form

        return self.chat.drafter.draft(kind, parse_form(form, self.corpus))

    def report_draft(self, kind: str, form: dict) -> dict:
        from assistant.reports.export import checklist_markdown, to_dict, to_markdown

        d = self._draft(kind, form)
        return {**to_dict(d), "markdown": to_markdown(d), "checklist_markdown": checklist_markdown(d), "type": d.kind}

    def report_docx(self, kind: str, form: dict) -> bytes:
        from assistant.reports.export import to_docx

        return to_docx(self._draft(kind, form))

    def report_checklist_docx(self, kind: str, form: dict) -> bytes:
        from assistant.reports.export import checklist_docx

        return checklist_docx(self._draft(kind, form))


class RemoteBackend:
    """The same calls over HTTP, against a running `brand-assistant serve`."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def reload(self) -> None:  # the API reopens its index itself
        pass

    def can_manage(self, admin_key: str | None) -> bool:
        return bool(admin_key)  # the API decides (403 for a key that is not an admin key)

    def add_document(self, name: str, data: bytes, *, dry_run: bool, replace: bool = False,
                     meta: dict | None = None, progress=None, admin_key: str | None = None) -> dict:
        form = {"dry_run": str(dry_run).lower(), "replace": str(replace).lower(),
                **{k: v for k, v in (meta or {}).items() if v is not None}}
        headers = {"X-API-Key": admin_key} if admin_key else {}
        return self._call("POST", "/v1/documents", files={"file": (name, data)}, data=form, headers=headers,
                          timeout=900)

    def remove_document(self, doc_id: str, admin_key: str | None = None) -> dict:
        headers = {"X-API-Key": admin_key} if admin_key else {}
        return self._call("DELETE", f"/v1/documents/{doc_id}", headers=headers, timeout=900)

    def _call(self, method: str, path: str, **kw) -> Any:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise BackendError(f"无法连接问答服务（{exc.__class__.__name__}），请稍后重试。") from exc
        if r.status_code == 422:
            raise InvalidQueryError(r.json().get("detail", "请求内容不合法。"))  # includes form errors
        if r.status_code == 403:
            raise ForbiddenError(r.json().get("detail", "无权访问。"))
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = None
            raise BackendError(detail or f"问答服务返回错误 {r.status_code}。")
        return r.json()

    def ask(self, question: str, *, role=None, phase=None, doc_ids=None, session_id=None) -> dict:
        body = {"question": question, "role": role, "phase": phase, "doc_ids": doc_ids or None,
                "session_id": session_id}
        return self._call("POST", "/v1/ask", json={k: v for k, v in body.items() if v})

    def search(self, query: str, filters: dict | None = None, top_k: int = 10) -> list[dict]:
        return self._call("POST", "/v1/search", json={"query": query, "top_k": top_k, "filters": filters or {}})["hits"]

    def documents(self) -> list[dict]:
        return self._call("GET", "/v1/documents")

    def clauses(self, doc_id: str) -> list[dict]:
        return self._call("GET", f"/v1/documents/{doc_id}/clauses")

    def clause(self, doc_id: str, label: str) -> dict:
        return self._call("GET", f"/v1/documents/{doc_id}/clauses", params={"label": label})

    def roles(self) -> list[dict]:
        return self._call("GET", "/v1/roles")

    def phases(self) -> list[dict]:
        return self._call("GET", "/v1/phases")

    def feedback(self, session_id: str, turn: int, rating: int, comment: str = "") -> None:
        self._call("POST", "/v1/feedback", json={"session_id": session_id, "turn": turn, "rating": rating,
                                                 "comment": comment})

    def report_fields(self) -> dict:
        return self._call("GET", "/v1/reports/fields")

    def report_draft(self, kind: str, form: dict) -> dict:
        return self._call("POST", "/v1/reports/draft", json={"type": kind, "form": form})

    def _report_file(self, path: str, kind: str, form: dict) -> bytes:
        try:
            r = self.http.post(path, json={"type": kind, "form": form})
        except httpx.HTTPError as exc:
            raise BackendError(f"无法连接问答服务（{exc.__class__.__name__}），请稍后重试。") from exc
        if r.status_code != 200:
            self._call("POST", "/v1/reports/draft", json={"type": kind, "form": form})  # raises the error
        return r.content

    def report_docx(self, kind: str, form: dict) -> bytes:
        return self._report_file("/v1/reports/draft.docx", kind, form)

    def report_checklist_docx(self, kind: str, form: dict) -> bytes:
        return self._report_file("/v1/reports/checklist.docx", kind, form)

    # -- admin: the admin key the user typed is sent with these calls only --------------
    admin_configured = True  # the API says otherwise (403) when it has no admin keys

    def _admin_call(self, key: str | None, method: str, path: str, **kw) -> Any:
        if not key:
            raise ForbiddenError("请输入管理员密钥。")
        return self._call(method, path, headers={"X-API-Key": key}, **kw)

    def check_admin(self, key: str | None) -> None:
        self._admin_call(key, "GET", "/v1/admin/turns", params={"limit": 1})

    def admin_turns(self, key: str | None, feedback: str = "all", limit: int = 100) -> list[dict]:
        return self._admin_call(key, "GET", "/v1/admin/turns", params={"feedback": feedback, "limit": limit})

    def admin_curated(self, key: str | None) -> dict:
        return self._admin_call(key, "GET", "/v1/admin/curated")

    def curate(self, key: str | None, question: str, units: list, note: str = "", session_id: str | None = None,
               turn: int | None = None) -> dict:
        body = {"question": question, "units": [{"doc_id": d, "clause": lab} for d, lab in units], "note": note,
                "session_id": session_id, "turn": turn}
        return self._admin_call(key, "POST", "/v1/admin/curated", json={k: v for k, v in body.items() if v})

    def remove_curated(self, key: str | None, pair_id: str) -> bool:
        self._admin_call(key, "DELETE", f"/v1/admin/curated/{pair_id}")
        return True


def make_backend(settings: Settings):
    if settings.api_url:
        key = settings.api_key_list[0] if settings.api_key_list else None
        return RemoteBackend(settings.api_url, key)
    return LocalBackend(settings)


# --- one backend per UI process, loadable before the first visitor ---------------------------
_SHARED: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _fingerprint(settings: Settings) -> tuple:
    return (str(settings.corpus_dir), str(settings.index_dir), str(settings.data_dir), settings.api_url,
            str(settings.curated_path), settings.embed_backend, settings.admin_keys)


def shared_backend(settings: Settings):
    """The process's backend for these settings, loaded once (the index takes seconds)."""
    fp = _fingerprint(settings)
    b = _SHARED.get(fp)
    if b is not None:
        return b
    with _LOCK:
        if fp not in _SHARED:
            _SHARED[fp] = make_backend(settings)
        return _SHARED[fp]


def backend_loaded(settings: Settings) -> bool:
    return _fingerprint(settings) in _SHARED


def warm(settings: Settings) -> threading.Thread:
    """Load the backend in a background thread (`brand-assistant ui` does this at start-up,
    so the first visitor does not wait for the index)."""
    def run() -> None:
        try:
            shared_backend(settings)
        except Exception:  # noqa: BLE001 - the page reports it when a visitor asks
            import logging

            logging.getLogger("assistant.ui").exception("warming the UI backend failed")

    t = threading.Thread(target=run, name="ui-warm", daemon=True)
    t.start()
    return t
