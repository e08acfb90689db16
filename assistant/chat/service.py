"""The assistant as the CLI, the API and the UI use it: ask, with sessions and follow-ups."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from assistant.answer.compose import AnswerComposer
from assistant.answer.models import Answer
from assistant.chat.followup import resolve
from assistant.chat.sessions import OPEN_OWNER, SessionStore
from assistant.errors import InvalidQueryError, StorageUnavailableError, UnknownTurnError
from assistant.index.store import ClauseIndex
from assistant.retrieval.retriever import HybridClauseRetriever, SearchFilters
from assistant.settings import Settings
from assistant.textutil import is_blank

log = logging.getLogger("assistant.chat")
NOT_STORED_NOTE = "会话存储暂不可用：本轮问答未保存，无法据此追问或反馈；答复内容不受影响。"


@dataclass
class AskResult:
    answer: Answer
    session_id: str  # "" when a new session could not be stored
    turn: int  # 0 when the question could not be stored
    stored: bool = True  # False: answered, but the session store was unavailable


class ChatService:
    def __init__(self, index: ClauseIndex, retriever: HybridClauseRetriever, settings: Settings,
                 store: SessionStore | None = None) -> None:
        self.index = index
        self.settings = settings
        self.retriever = retriever
        self.composer = AnswerComposer(index, retriever, settings)
        self.store = store or SessionStore(settings.sessions_db)
        self.phraser = None
        if settings.llm_enabled:
            from assistant.answer.llm import LLMPhraser

            self.phraser = LLMPhraser(settings)

    @functools.cached_property
    def drafter(self):
        """The report drafter on the same corpus, built (and its clause map checked) once."""
        from assistant.reports.draft import Drafter

        return Drafter(self.index.corpus)

    def check_question(self, question: str | None) -> str:
        if question is None or is_blank(str(question)):  # zero-width characters alone are blank too
            raise InvalidQueryError("问题不能为空，请输入要咨询的内容。")
        if len(question) > self.settings.max_query_chars:
            raise InvalidQueryError(
                f"问题过长（{len(question)} 字），请控制在 {self.settings.max_query_chars} 字以内。")
        return question.strip()

    def ask(self, question: str, *, role: str | None = None, phase: str | None = None,
            doc_ids: list[str] | None = None, session_id: str | None = None,
            owner: str = OPEN_OWNER) -> tuple[Answer, str, int]:
        """Answer one question; returns (answer, session_id, turn). See ask_turn."""
        r = self.ask_turn(question, role=role, phase=phase, doc_ids=doc_ids, session_id=session_id, owner=owner)
        return r.answer, r.session_id, r.turn

    def ask_turn(self, question: str, *, role: str | None = None, phase: str | None = None,
                 doc_ids: list[str] | None = None, session_id: str | None = None,
                 owner: str = OPEN_OWNER) -> AskResult:
        """Answer one question. session_id continues a session of the same owner (an
        unknown id, or another owner's, is UnknownSessionError); None starts one with a
        server-generated id. When the session store is unavailable the question is still
        answered, with stored=False and a note saying so."""
        question = self.check_question(question)
        # role and phase steer the question (see _answer) rather than filter, but are
        # checked like filter values, with the same message listing the valid ones
        SearchFilters(doc_ids=list(doc_ids or []), roles=[role] if role else [],
                      phases=[phase] if phase else []).validate(self.index)
        filters = SearchFilters(doc_ids=list(doc_ids or []))
        request = {"role": role, "phase": phase, "doc_ids": doc_ids or []}
        prev, stored, turn = None, True, 0
        try:
            if session_id:
                self.store.check_owner(session_id, owner)
                prev = self.store.last_answered(session_id)
            # the question is stored before it is answered
            session_id, turn = self.store.open_turn(session_id or None, question, request, owner)
        except StorageUnavailableError as exc:
            log.warning("answering without storing the turn: %s", exc.message)
            stored, session_id = False, session_id or ""
        try:
            answer = self._answer(question, role, phase, filters, prev.context if prev else None)
        except Exception:
            if stored:
                try:
                    self.store.finish_turn(session_id, turn, {}, {}, status="failed")
                except StorageUnavailableError:
                    pass  # the original error is the one to report
            raise
        context = self.context_of(answer, question, filters)
        if stored:
            try:
                self.store.finish_turn(session_id, turn, answer.to_dict(), context)
            except StorageUnavailableError as exc:  # the question is kept (pending); the answer is given
                log.warning("answer not stored: %s", exc.message)
                stored = False
        if not stored:
            answer.notes.append(NOT_STORED_NOTE)
        return AskResult(answer, session_id, turn, stored)

    def feedback(self, session_id: str, turn: int, rating: int, comment: str = "",
                 owner: str = OPEN_OWNER) -> int:
        """Store 👍/👎 on a turn of one's own session; returns the feedback id."""
        self.store.check_owner(session_id, owner)
        if not any(t.turn == turn for t in self.store.turns(session_id)):
            raise UnknownTurnError(f"会话 {session_id} 中没有第 {turn} 轮。")
        return self.store.add_feedback(session_id, turn, rating, comment)

    @staticmethod
    def context_of(answer: Answer, question: str, filters: SearchFilters) -> dict:
        """What a follow-up resolves against: the question, the unit the answer is about,
        its points and the items of its main point in the order shown, its documents."""
        main = answer.points[0] if answer.points else None
        return {
            "question": answer.effective_question or question,
            "roles": answer.roles, "phases": answer.phases,
            "doc_ids": answer.doc_ids,
            "main": [main.citation.doc_id, main.citation.label] if main else None,
            "points": [[p.citation.doc_id, p.citation.label] for p in answer.points],
            "items": [[i.citation.doc_id, i.citation.label] for i in main.items] if main else [],
            "citations": [[c.doc_id, c.label] for c in answer.citations],
            "filters": {"doc_ids": filters.doc_ids},
        }

    def _answer(self, question: str, role: str | None, phase: str | None, filters: SearchFilters,
                prev: dict | None) -> Answer:
        corpus = self.index.corpus
        res = resolve(question, prev, self.retriever.analyzer, corpus)
        if res.missing_nth:
            return Answer(question=question, answer=res.missing_nth, supported=False, coverage="none",
                          mode="abstain", direct=res.missing_nth, effective_question=res.question)
        if res.kind in ("nth", "strength", "detail") and res.unit is not None:
            unit = corpus.clause(*res.unit)
            out = (self.composer.strength_answer(question, unit) if res.kind == "strength"
                   else self.composer.detail_answer(question, unit))
            out.effective_question = res.question
            return out
        effective = res.question
        prefer = list(res.prefer_docs)
        if res.kind == "other-docs":
            others = [d for d in corpus.documents if d not in res.exclude_docs]
            filters = SearchFilters(doc_ids=[d for d in others if not filters.doc_ids or d in filters.doc_ids])
        elif res.kind in ("carry", "anaphora") and prev:
            filters = SearchFilters(doc_ids=filters.doc_ids or list((prev.get("filters") or {}).get("doc_ids") or []))
        # explicit role/phase from the request join the question's own understanding
        for extra in (role, phase):
            if extra and extra not in effective:
                effective = f"{effective}（{extra}）"
        answer = self.composer.answer(effective, filters, prefer_docs=prefer)
        answer.question = question
        answer.effective_question = effective
        if self.phraser is not None and answer.supported:
            answer = self.phraser.phrase(effective, answer)
        return answer
