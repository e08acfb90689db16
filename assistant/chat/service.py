"""The assistant as the CLI, the API and the UI use it: ask, with sessions and follow-ups."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from assistant.answer.compose import UNKNOWN_HINT_WEIGHT, AnswerComposer
from assistant.answer.models import Answer, Unfiltered
from assistant.chat.followup import resolve, section_of, topic_of
from assistant.chat.sessions import OPEN_OWNER, SessionStore
from assistant.errors import InvalidQueryError, StorageUnavailableError, UnknownTurnError
from assistant.index.store import ClauseIndex
from assistant.retrieval.retriever import Context, HybridClauseRetriever, SearchFilters
from assistant.settings import Settings
from assistant.textutil import is_blank

log = logging.getLogger("assistant.chat")
COVERAGE_RANK = {"none": 0, "partial": 1, "answered": 2}
# words that ask for a role's duties without naming a topic ("有哪些职责", "这个阶段要做什么")
GENERIC_WORDS = {"职责", "要求", "任务", "工作", "内容", "事项", "阶段", "注意", "重点", "措施", "方面", "事情",
                 "服务", "做法", "具体", "需要", "主要", "哪些"}
# a word the corpus never uses, tagged a noun and at least this informative, is a topic of the
# follow-up's own (高考 2.7, 电脑 2.8), not a way of speaking of the previous one (事情 1.3)
ELLIPTICAL_NOUN = 2.0
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
        self.curated  # noqa: B018 - the curated pairs apply to every retriever the service is given
        self.phraser = None
        if settings.llm_enabled:
            from assistant.answer.llm import LLMPhraser

            self.phraser = LLMPhraser(settings)

    @property
    def curated(self):
        """The curated pairs the retriever applies (one store, so a saved correction holds
        for the next question at once)."""
        if self.retriever.curated is None:
            from assistant.curated import CuratedStore

            self.retriever.curated = CuratedStore(self.settings.curated_path, self.index.corpus)
        return self.retriever.curated

    # -- the admin loop ----------------------------------------------------------------
    def admin_turns(self, feedback: str = "all", limit: int = 100, session_id: str | None = None) -> list[dict]:
        """Conversations and their feedback, newest first (every owner's: admins only)."""
        out = []
        for t in self.store.recent_turns(feedback, limit, session_id):
            a = t["answer"] or {}
            out.append({**{k: t[k] for k in ("session_id", "turn", "question", "status", "created_at", "request",
                                              "rating", "comment", "feedback_at")},
                        "coverage": a.get("coverage", ""), "direct": a.get("direct", ""),
                        "answer": a.get("answer", ""), "curated": a.get("curated", "") or "",
                        "citations": [c.get("cite") or f"{c['doc_id']} {c.get('label') or c.get('clause')}"
                                      for c in a.get("citations") or []],
                        "units": [[c["doc_id"], c.get("label") or c.get("clause")] for c in a.get("citations") or []]})
        return out

    def curate(self, question: str, units, *, note: str = "", session_id: str | None = None,
               turn: int | None = None, author: str = ""):
        """Store a curated question → units pair (checked against the corpus). A pair
        that names a conversation turn must name a real one."""
        source = {}
        if session_id:
            if turn is None or not any(t.turn == turn for t in self.store.turns(session_id)):
                raise UnknownTurnError(f"会话 {session_id} 中没有第 {turn} 轮。")
            source = {"session_id": session_id, "turn": turn}
        return self.curated.add(question, units, note=note, source=source, author=author)

    def pair_dict(self, pair) -> dict:
        corpus = self.index.corpus
        return {**pair.to_dict(), "units": [list(u) for u in pair.units],
                "cites": [corpus.doc(d).spec.cite(lab) for d, lab in pair.units]}

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
            if (doc_ids or role or phase) and answer.coverage != "answered":
                answer.unfiltered = self._unfiltered(question, answer, role, phase, list(doc_ids or []),
                                                     prev.context if prev else None)
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

    def _unfiltered(self, question: str, answer: Answer, role: str | None, phase: str | None,
                    doc_ids: list[str], prev: dict | None) -> Unfiltered | None:
        """The answer without the filters, when it is better than the filtered one: a
        better coverage, or as good with more confidence from provisions the filtered
        answer does not cite. None otherwise."""
        alt = self._answer(question, None, None, SearchFilters(), prev)
        rank, alt_rank = COVERAGE_RANK[answer.coverage], COVERAGE_RANK[alt.coverage]
        shown = {c.uid for c in answer.citations}
        new = [p.citation for p in alt.points if p.citation.uid not in shown]
        better = alt_rank > rank or (alt_rank == rank >= 1 and new and (alt.confidence or 0.0)
                                     > (answer.confidence or 0.0) + 0.05)
        if not better or not alt.points:
            return None
        corpus = self.index.corpus
        parts = []
        if doc_ids:
            parts.append("所选文件（" + "、".join(corpus.doc(d).spec.cite_name for d in doc_ids) + "）")
        if role or phase:
            parts.append("所选" + "、".join(x for x in ("角色" if role else "", "阶段" if phase else "") if x)
                         + "（" + "、".join(x for x in (role, phase) if x) + "）")
        found = "相关规定" if answer.coverage == "none" else "明确规定"
        where = "在全部文件中" if doc_ids and not (role or phase) else "不加筛选时"
        message = f"在{'和'.join(parts)}中未找到{found}；{where}有："
        return Unfiltered(message=message, coverage=alt.coverage, direct=alt.direct,
                          citations=[p.citation for p in alt.points][:3],
                          filters={"doc_ids": doc_ids, "role": role, "phase": phase})

    def generic(self, question: str) -> bool:
        """A question that names no topic of its own ("要做什么？", "有哪些职责"): a role and
        phase set as filters then say what it is about."""
        qa, words = self._content(question)
        return not [t for t, _ in words if t not in GENERIC_WORDS and t not in qa.roles and t not in qa.phases]

    def _content(self, question: str):
        """(the analysed question, its content words with their weights): what the evidence
        decision weighs of it."""
        qa = self.retriever.analyzer.analyze(question)
        words = self.composer.judge.content(qa.text, self.index.corpus.vocab.asked_slot(qa.text), qa.doc_names)
        return qa, words

    def elliptical(self, question: str) -> bool:
        """A Chinese question that names nothing of its own the documents lack: no word the
        corpus never uses is a thing (a noun of some weight: 下雨 is not, 红烧肉 and 高考 are; a
        Latin-letter name: Python, Excel) or informative (weight >= UNKNOWN_HINT_WEIGHT), so
        "哪些事不能算进去？" (算进去) and "有没有例外的情况？" (例外) are. English questions
        have no word frequencies to tell, so they never are."""
        qa, words = self._content(question)
        if qa.cjk < 0.5:
            return False
        judge = self.composer.judge
        nouns = self.index.tokenizer.nouns(qa.text)
        for t, w in words:
            if judge.in_corpus(t):
                continue
            if w >= UNKNOWN_HINT_WEIGHT or (t in nouns and w >= ELLIPTICAL_NOUN) or not re.search(r"[\u4e00-\u9fff]", t):
                return False
        return True

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
        res = resolve(question, prev, self.retriever.analyzer, corpus, self.index.tokenizer.nouns)
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
        # a follow-up with no marker ("申报材料要交给谁？") is read in the conversation: the
        # document the previous answer was about is preferred, a little, unless it names one
        context = None
        if res.kind == "new" and prev and prev.get("main"):
            doc_id, units = section_of(corpus, tuple(prev["main"]))
            context = Context(docs={doc_id} if doc_id else set(), units=units)
        if res.kind == "other-docs":
            others = [d for d in corpus.documents if d not in res.exclude_docs]
            filters = SearchFilters(doc_ids=[d for d in others if not filters.doc_ids or d in filters.doc_ids])
        elif res.kind in ("carry", "anaphora") and prev:
            filters = SearchFilters(doc_ids=filters.doc_ids or list((prev.get("filters") or {}).get("doc_ids") or []))
        # a role and phase from the request: for a question without a topic of its own they
        # say what it is about (its text gains them); otherwise they only steer, lightly, and
        # the question's topic stays what retrieval looks for
        hint_roles, hint_phases = [], []
        if (role or phase) and self.generic(effective):
            for extra in (role, phase):
                if extra and extra not in effective:
                    effective = f"{effective}（{extra}）"
        else:
            hint_roles, hint_phases = [role] if role else [], [phase] if phase else []
        answer = self.composer.answer(effective, filters, prefer_docs=prefer, hint_roles=hint_roles,
                                      hint_phases=hint_phases, context=context)
        if answer.coverage == "none" and context is not None and self.elliptical(question):
            # "哪些事不能算进去？": nothing of its own the documents lack, so it is read as being
            # about the previous answer's topic ("天气怎么样" names 天气 and stays "none")
            topic = topic_of(corpus, tuple(prev["main"]))
            if topic and topic not in effective:
                again_q = f"{effective.rstrip('？?。')}（{topic}）"
                again = self.composer.answer(again_q, filters, prefer_docs=prefer, hint_roles=hint_roles,
                                             hint_phases=hint_phases, context=context)
                if again.coverage != "none":
                    answer, effective = again, again_q
        answer.question = question
        answer.effective_question = effective
        if self.phraser is not None and answer.supported:
            answer = self.phraser.phrase(effective, answer)
        return answer
