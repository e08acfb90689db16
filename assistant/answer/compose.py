"""The answer stage, one way through: retrieval → evidence decision (evidence.py) →
selection of points (select.py) → citations checked (citations.py) → rendering (render.py).

Three outcomes, said plainly (see evidence.py): answered, partial (the asked detail is not
stated — said first — or the decision is unsure — the closest provisions, to be checked),
none (no relevant provision; the nearest topics). `supported` is true only for answered.
"""

from __future__ import annotations

import logging

from assistant.answer import render
from assistant.answer.citations import citation_for, validate_citations
from assistant.answer.evidence import Evidence, EvidenceJudge, EvidenceModel
from assistant.answer.models import Answer, Citation, Point
from assistant.answer.select import Selection, Selector, drop_list_intro
from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus
from assistant.index.embeddings import embedding_id
from assistant.index.store import ClauseIndex
from assistant.retrieval.retriever import Context, HybridClauseRetriever, Retrieval, SearchFilters
from assistant.settings import Settings

MEANING = {
    "shall": "表示要求：{when}必须做到",
    "should": "表示推荐：{when}建议做到，但不是必须",
    "may": "表示允许：可以这样做，由实施者选择",
    "shall-not": "表示禁止：{when}不得这样做",
}
log = logging.getLogger("assistant.answer")
UNKNOWN_HINT_WEIGHT = 4.0  # an informative word the corpus never uses is named in a partial answer


class AnswerComposer:
    def __init__(self, index: ClauseIndex, retriever: HybridClauseRetriever, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.index = index
        self.corpus: Corpus = index.corpus
        self.retriever = retriever
        model = EvidenceModel.load(self.corpus.root / "vocab" / "evidence_model.json")
        offdomain = EvidenceModel.load(self.corpus.root / "vocab" / "offdomain_model.json")
        fitted_with = (offdomain.meta if offdomain else {}).get("embedding")
        if fitted_with and fitted_with != embedding_id(index.embed_model):
            # its strongest signal is the dense similarity, whose scale is the model's own: with
            # another model (BA_EMBED_BACKEND=use) the none decision is the rule, not this fit
            log.info("none decision: %s was fitted with %s, the index uses %s; using the rule",
                     "offdomain_model.json", fitted_with, embedding_id(index.embed_model))
            offdomain = None
        self.judge = EvidenceJudge(index, retriever, model, settings.answer_threshold, settings.none_domain,
                                   settings.none_dense, offdomain, settings.offdomain_threshold)
        self.selector = Selector(self.corpus, self.judge)

    def citation(self, unit: Clause, quote: str | None = None) -> Citation:
        return citation_for(self.corpus, unit, quote)

    # -- entry points --------------------------------------------------------------------
    def answer(self, question: str, filters: SearchFilters | None = None, top_k: int = 10,
               prefer_docs: list[str] | None = None, hint_roles: list[str] | None = None,
               hint_phases: list[str] | None = None, context: "Context | None" = None) -> Answer:
        # curated pairs (assistant/curated.py): the very question is answered with its pair's
        # units (compose → pinned); a merely similar question's pair lifts its units in search
        # results only, never in an answer: the dense model calls many different questions
        # about one topic "similar", and lifting in answers changed correct answers without
        # fixing paraphrases (measured, evals/README.md "Curated pairs")
        r = self.retriever.retrieve_all(question, filters, top_k=top_k, prefer_docs=prefer_docs,
                                        hint_roles=hint_roles, hint_phases=hint_phases, lift_similar=False,
                                        context=context)
        return self.compose(question, r, filters)

    def pinned(self, r: Retrieval, filters: SearchFilters | None):
        """(the curated pair this very question matches, its units within the filters)."""
        exact = next((m for m in r.qa.curated if m.exact), None)
        if exact is None:
            return None, []
        allowed = set(filters.doc_ids) if filters and filters.doc_ids else None
        units = [self.corpus.clause(d, lab) for d, lab in exact.pair.units if allowed is None or d in allowed]
        return exact.pair, units

    def compose(self, question: str, r: Retrieval, filters: SearchFilters | None = None) -> Answer:
        ev = self.judge.decide(r)
        qa = r.qa
        pair, pinned = self.pinned(r, filters)
        if pinned:
            # an admin said which units answer this question: answered, with those units
            ev.coverage, ev.missing, ev.candidate = "answered", [], None
        if ev.coverage == "none":
            return self._none(question, r, ev)
        words = self.judge.content(qa.text, ev.slot, qa.doc_names)
        sel = self.selector.select(r, ev, words, filters.doc_ids if filters else [], pinned=pinned or None)
        ans = Answer(question=question, answer="", supported=False, coverage=ev.coverage,
                     missing=list(ev.missing), roles=qa.roles, phases=qa.phases, confidence=ev.confidence)
        if pinned:
            ans.curated = pair.id
        if not sel.points:
            return self._none(question, r, ev)
        ans.points, ans.related, ans.other_items = sel.points, sel.related, sel.other_items
        if ev.slot is not None and ev.slot.id == "mandatory" and sel.main is not None:
            self._strength(ans, sel.main)
        ans.direct = self._direct(ans, ev, sel)
        return self.finish(ans)

    def finish(self, ans: Answer) -> Answer:
        """Check every citation, drop what fails, fill the flat lists and render."""
        kept_points = []
        for p in ans.points:
            ok, bad = validate_citations(self.corpus, [p.citation])
            ans.notes += [f"已剔除未通过核验的引用：{c.cite}（{why}）" for c, why in bad]
            if not ok:
                continue
            items = []
            for it in p.items:
                good, bad_items = validate_citations(self.corpus, [it.citation])
                ans.notes += [f"已剔除未通过核验的引用：{c.cite}（{why}）" for c, why in bad_items]
                if good:
                    items.append(it)
            p.items = items
            kept_points.append(p)
        ans.points = kept_points
        ans.related, _ = validate_citations(self.corpus, ans.related)
        ans.other_items, _ = validate_citations(self.corpus, ans.other_items)
        ans.citations = [c for p in ans.points for c in p.citations()]
        ans.doc_ids = list(dict.fromkeys(c.doc_id for c in ans.citations))
        if not ans.points and ans.coverage != "none":
            ans.coverage = "none"
        ans.supported = ans.coverage == "answered" and bool(ans.citations)
        if ans.coverage == "none":
            ans.mode = "abstain"
        ans.answer = render.to_text(ans)
        return ans

    # -- the parts -----------------------------------------------------------------------
    def _none(self, question: str, r: Retrieval, ev: Evidence) -> Answer:
        topics = []
        # bibliography entries are not topics a person can turn to
        for h in [h for h in r.hits if h.kind != "reference"][:3]:
            name = self.corpus.doc(h.doc_id).spec.cite_name
            heading = h.heading_path.split(" > ")[-1] if h.heading_path else ""
            lead, _, rest = heading.partition(" ")
            if rest and h.label.startswith(lead):  # an item under "6.5.8 国家…": its clause's title, once
                heading = rest
            title = h.title or heading or h.text[:20]
            topics.append(f"{name} {h.label} {title}".strip())
        ans = Answer(question=question, answer="", supported=False, coverage="none", nearest_topics=topics,
                     mode="abstain", roles=r.qa.roles, phases=r.qa.phases, confidence=ev.confidence,
                     direct="现有文件中没有找到与此相关的规定，无法给出有出处的答复。")
        return self.finish(ans)

    def _direct(self, ans: Answer, ev: Evidence, sel: Selection) -> str:
        if ans.strength is not None and ans.points:
            return ans.direct  # set by _strength
        if ans.coverage == "partial":
            if ev.absent:
                return f"现有文件没有写明{ev.slot.missing}。以下是与您的问题最相关的规定（其中没有这一内容）："
            qa = self.retriever.analyzer.analyze(ans.question)
            pronouns = self.judge.tokenizer.pronouns(qa.text)  # 哪几, 啥时候: grammar, not a missing topic
            unknown = [t for t, w in self.judge.content(qa.text, ev.slot, qa.doc_names)
                       if w >= UNKNOWN_HINT_WEIGHT and t in ev.uncovered and not self.judge.in_corpus(t)
                       and t not in pronouns]
            hint = ("文件中没有出现“" + "”“".join(unknown[:3]) + "”的说法；") if unknown else ""
            if ev.filler is not None:  # a sentence that may well answer it: quoted first, to be checked
                unit, sentence = ev.filler
                c = self.citation(unit, sentence)
                return f"{hint}以下规定可能回答了您的问题，请核对：{c.quote}{c.cite}"
            return f"{hint}以下规定与您的问题最相关，请核对是否回答了您的问题："
        if sel.lead:
            return sel.lead
        if sel.direct_quote is not None:
            unit, sentence = sel.direct_quote
            spec = self.corpus.doc(unit.doc_id).spec
            c = self.citation(unit, sentence)
            if unit.kind == "term":
                return f"「{unit.title.split(' ')[0] if unit.title else unit.label}」在{spec.full_name}中的定义：{c.quote}{c.cite}"
            return f"根据{spec.full_name}：{c.quote}{c.cite}"
        docs = list(dict.fromkeys(p.citation.doc_id for p in ans.points))
        return "根据" + "、".join(self.corpus.doc(d).spec.full_name for d in docs) + "，相关规定如下："

    def strength_statement(self, unit: Clause) -> tuple[str, str]:
        """(what the unit's modal means and what force its document has, the force alone)."""
        doc = self.corpus.doc(unit.doc_id)
        c = self.citation(unit)
        force = self.corpus.vocab.force.get(doc.spec.nature)
        when = force.modal_meaning if force and force.modal_meaning else "按该文件实施时"
        if unit.strength in MEANING:
            inherited = "（该项自身没有助动词，承接其引导语）" if unit.strength_inherited else ""
            modal = unit.modal or render.strength_zh(unit.strength)
            head = f"{c.cite}用的是「{modal}」{inherited}，{MEANING[unit.strength].format(when=when)}。"
        else:
            head = f"{c.cite}没有使用“应”“宜”“可”等规范性用语，是陈述性内容，本身不构成要求。"
        force_text = ""
        if force:
            force_text = f"{doc.spec.full_name}是{force.name}：{force.force}。"
        return head + force_text, force_text

    def _strength(self, ans: Answer, unit: Clause) -> None:
        ans.strength = unit.strength
        ans.direct, ans.force = self.strength_statement(unit)
        # the unit asked about comes first
        ans.points.sort(key=lambda p: p.citation.uid != unit.uid)
        if not ans.points or ans.points[0].citation.uid != unit.uid:
            ans.points.insert(0, Point(self.citation(unit)))

    # -- follow-ups about one unit -------------------------------------------------------
    def strength_answer(self, question: str, unit: Clause) -> Answer:
        ans = Answer(question=question, answer="", supported=False, coverage="answered",
                     points=[Point(self.citation(unit), context=self.selector._context(unit))])
        self._strength(ans, unit)
        return self.finish(ans)

    def detail_answer(self, question: str, unit: Clause) -> Answer:
        """"第二条具体怎么做" / "第四项说的是什么": the unit with everything under it."""
        p, rest = self.selector.point(unit, self.retriever.analyzer.analyze(question), [], whole=True)
        spec = self.corpus.doc(unit.doc_id).spec
        ans = Answer(question=question, answer="", supported=False, coverage="answered", points=[p],
                     other_items=rest)
        text = unit.text if p.items else (drop_list_intro(unit.text) or unit.text)
        c = self.citation(unit, text or None)
        ans.direct = f"{c.cite}（{spec.full_name}）规定：{c.quote}"
        if p.items:
            ans.direct = f"{c.cite}（{spec.full_name}）规定了以下{len(p.items)}项："
        return self.finish(ans)
