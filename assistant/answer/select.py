"""Selection: retrieved units → the points of an answer, pinpointed.

- Cite the unit that answers: the matched item (its clause's heading as context), not a
  clause with all its items; a list clause is quoted with the items that answer it.
- No point ends in a dangling lead-in ("服务包括但不限于以下内容："): where its items are
  not quoted, the lead-in sentence is left out.
- The other items of a cited clause go to `other_items` (shown collapsed as 同条其他要求).
- Fewer, sharper points: a second or third provision only when it scores close to the
  first — from any document when the question names none (the standards overlap: a close
  provision of another one answers as well); when it names one, the other documents'
  provisions go to `related`.
- The direct answer quotes one sentence: the one that fills the asked slot, else the one
  of the main point that covers the question best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer.citations import citation_for
from assistant.answer.evidence import Evidence, EvidenceJudge
from assistant.answer.models import Citation, Point
from assistant.corpus.model import NORMATIVE, Clause
from assistant.corpus.store import Corpus, Document
from assistant.retrieval.query import QueryAnalysis
from assistant.retrieval.retriever import Retrieval

MAX_POINTS = 3  # provisions of their own (items of a cited list do not count)
MAX_POINTS_UNSURE = 3  # …when the decision is unsure: the closest ones, for the user to check
MAX_ITEMS = 12  # items quoted under one list clause
SECOND_POINT = 0.7  # a further point scores at least this share of the first
SECOND_POINT_UNSURE = 0.6  # …when the decision is unsure, the closest few are shown to be checked
RELATED_SHARE = 0.6  # a related provision (other documents) scores at least this share
COMPARE_SHARE = 0.45  # …and another document's best unit, when the question compares documents
MAX_RELATED = 2
SECONDARY_ITEMS = False  # further points quote the items of theirs that matched
ROLE_PHASE_UNITS = 8
MANDATORY_TOP = 5  # for "is it mandatory", a normative unit among this many outranks a statement…
MANDATORY_SHARE = 0.6  # …when it scores at least this share of the first

_LIST_INTRO = re.compile(r"(包括|如下|以下|下列|有|为)[^。；]{0,20}[：:]\s*$")
# a question that asks for a whole list ("行业协会有哪些职责"), not for one point of it
_LIST_QUESTION = re.compile(r"哪些|哪几|包括|职责|要做什么|做什么|干什么|干啥|干点啥|要干|任务|内容|措施|方面|步骤|流程"
                            r"|which|what (are|should|must|do)|list", re.I)
# a question that compares documents or asks whether others say the same
_COMPARE = re.compile(r"两个标准|两份|两个文件|几个文件|各(有|是|自|怎么|有什么)|分别|都有|都怎么|都是|有什么不同|有何不同|区别|一样吗"
                      r"|其他文件|别的文件|其它文件|哪些文件|both|each|compare|differ", re.I)
_SENTENCES = re.compile(r"[^。；;！？]+[。；;！？]?")


@dataclass
class Selection:
    points: list[Point] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    other_items: list[Citation] = field(default_factory=list)
    main: Clause | None = None  # the unit the answer is about (follow-ups resolve against it)
    direct_quote: tuple[Clause, str] | None = None  # the sentence the direct answer quotes
    lead: str = ""  # a lead sentence the selection itself calls for (role x phase answers)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.findall(text or "") if s.strip()]


def drop_list_intro(text: str) -> str:
    """The text without a trailing sentence that only introduces a list."""
    sents = _sentences(text)
    if sents and _LIST_INTRO.search(sents[-1]):
        rest = "".join(sents[:-1]).strip()
        return rest
    return text


class Selector:
    def __init__(self, corpus: Corpus, judge: EvidenceJudge) -> None:
        self.corpus = corpus
        self.judge = judge

    # -- helpers ---------------------------------------------------------------------
    def _doc(self, u: Clause) -> Document:
        return self.corpus.doc(u.doc_id)

    def _ancestors(self, u: Clause) -> list[str]:
        doc, out = self._doc(u), []
        p = u.parent
        while p:
            out.append(p)
            p = doc.by_label[p].parent
        return out

    @staticmethod
    def _not_a_point(u: Clause, qa) -> bool:
        """Units left out of an answer's further points: a bibliography entry, and a cover
        unless the question is about its document (a cover answers that, not a topic)."""
        return u.kind == "reference" or (u.kind == "cover" and not qa.metadata)

    def _related_family(self, a: Clause, b: Clause) -> bool:
        return a.doc_id == b.doc_id and (a.label == b.label or a.label in self._ancestors(b)
                                         or b.label in self._ancestors(a))

    def _context(self, u: Clause) -> str:
        """The heading a provision sits under, e.g. "6.4.4 品牌维权" (a title, not a quote)."""
        doc = self._doc(u)
        p = u
        while p is not None:
            if p.title and p.kind not in ("item",) and p is not u:
                return f"{p.label} {p.title}"
            p = doc.by_label.get(p.parent) if p.parent else None
        return ""

    def term_named(self, qa: QueryAnalysis) -> Clause | None:
        """The defined term (术语和定义) the question names, longest name first, a named
        document's first."""
        best: tuple[int, int, Clause] | None = None
        for u in self.corpus.units():
            if u.kind != "term" or not u.title:
                continue
            m = re.match(r"[\u4e00-\u9fff“”]+", u.title)
            name = m.group(0).strip("“”") if m else ""
            if name and name in qa.text:
                key = (len(name), u.doc_id in qa.doc_hint)
                if best is None or key > best[:2]:
                    best = (*key, u)
        return best[2] if best else None

    def cite(self, u: Clause, quote: str | None = None) -> Citation:
        return citation_for(self.corpus, u, quote)

    def best_sentence(self, u: Clause, words: list[tuple[str, float]]) -> str:
        """The sentence of a unit that covers the question's content best."""
        sents = _sentences(u.text) or [u.text or u.title or ""]
        if len(sents) == 1 or not words:
            return sents[0]
        total = sum(w for _, w in words) or 1.0

        def score(s: str) -> float:
            return sum(w * self.judge.covered(t, s) for t, w in words) / total

        return max(sents, key=lambda s: (score(s), -sents.index(s)))

    # -- points ------------------------------------------------------------------------
    def point(self, u: Clause, qa: QueryAnalysis, matched: list[str], whole: bool) -> tuple[Point, list[Citation]]:
        """A point for unit u and the items of it left out (for 同条其他要求). whole: quote
        every item of a list clause (the question asks for the list)."""
        doc = self._doc(u)
        items = [c for c in doc.children(u) if c.kind in ("item", "note") and c.text]
        if u.kind in ("item",) or not items:
            p = Point(self.cite(u), context=self._context(u))
            sub = [c for c in doc.children(u) if c.text and c.kind == "item"]
            if sub and (whole or any(c.label in matched for c in sub)):
                chosen = sub if whole else [c for c in sub if c.label in matched]
                p.items = [Point(self.cite(c)) for c in chosen[:MAX_ITEMS]]
            return p, []
        chosen = items if whole else [c for c in items if c.label in matched]
        if whole and len(chosen) > MAX_ITEMS:
            chosen = [c for c in chosen if c.label in matched] or chosen[:MAX_ITEMS]
        text = u.text if chosen else drop_list_intro(u.text)
        head = self.cite(u, text) if text else None
        rest = [self.cite(c) for c in items if c not in chosen]
        if head is None and u.title and (whole or len(chosen) > 1):
            # a heading over its items ("（二）区域品牌建设成效（40分）"): the items under it
            return Point(self.cite(u), items=[Point(self.cite(c)) for c in chosen], context=self._context(u)), rest
        if head is None:  # a bare lead-in and no item quoted: the items are the answer
            first = chosen[0] if chosen else items[0]
            return Point(self.cite(first), context=self._context(first)), rest
        return Point(head, items=[Point(self.cite(c)) for c in chosen], context=self._context(u)), rest

    def select(self, r: Retrieval, ev: Evidence, words: list[tuple[str, float]],
               doc_ids: list[str] | None = None, pinned: list[Clause] | None = None) -> Selection:
        """pinned: the units an admin curated for this very question (assistant/curated.py):
        they are the points, in the admin's order, and nothing else is."""
        qa = r.qa
        sel = Selection()
        if not r.hits and not pinned:
            return sel
        if pinned:
            return self._pinned(r, ev, words, pinned)
        if qa.roles and qa.phases and ev.slot is None and _LIST_QUESTION.search(qa.text) \
                and not self._has_topic(qa, words):
            # "行业社会组织在成长扩张期要做什么": the role's duties in the phase. A question with a
            # topic of its own ("…在营商环境上要做什么") is answered by retrieval (boosted by both)
            role_phase = self._role_phase(qa, doc_ids or [])
            if role_phase is not None:
                return role_phase
        nodes = self.judge.index.nodes
        ranked = [(self.corpus.clause(nodes[p].metadata["doc_id"], nodes[p].metadata["label"]), s)
                  for p, s in r.ranked[:40]]
        # the main unit: the definition asked about, the unit that fills the asked slot, or
        # the best-scoring unit
        main = ranked[0][0]
        if main.kind == "cover" and self._not_a_point(main, qa):
            # a cover ranked first for a topical question: the best unit that may be a point
            # (a bibliography entry ranked first stays main: a question about a cited standard)
            main = next((u for u, _ in ranked[1:] if not self._not_a_point(u, qa)), main)
        if ev.slot is not None and ev.slot.id == "definition":
            main = self.term_named(qa) or next((u for u, _ in ranked[:5] if u.kind == "term"), None) or main
        if not main.text:
            # a bare heading ranked first ("6.1.1 成立管理运营机构"): the answer is the best of
            # what stands under it
            under = [u for u, _ in ranked[1:12] if u.text and main.label in self._ancestors(u)
                     and u.doc_id == main.doc_id]
            main = under[0] if under else main
        whole_list = bool(_LIST_QUESTION.search(qa.text.lower()))
        if whole_list and main.kind == "item":
            # the question asks for the list: the clause the best item belongs to, with its items
            head = next((h for h in r.hits if h.doc_id == main.doc_id and main.label in h.labels), None)
            if head is not None and head.label != main.label:
                main = self.corpus.clause(head.doc_id, head.label)
        if ev.filler is not None:
            main = ev.filler[0]
        elif ev.candidate is not None and ev.candidate_hit is not None \
                and ev.candidate_hit.uid in {u.uid for u, _ in ranked[:3]}:
            main = ev.candidate[0]  # the close unit that names what was asked (who, when…)
        top = ranked[0][1]
        if ev.slot is not None and ev.slot.id == "mandatory" and main.strength not in NORMATIVE:
            # "…是必须的吗": a provision that says 应/宜/可 of the matter answers that, a statement
            # does not; the best-ranked one scoring close to the first, if any
            main = next((u for u, s_ in ranked[1:MANDATORY_TOP] if u.strength in NORMATIVE
                         and s_ >= MANDATORY_SHARE * top and not self._not_a_point(u, qa)), main)
        chosen: list[Clause] = [main]
        compare = len(qa.doc_hint) >= 2 or bool(_COMPARE.search(qa.text))
        if compare:
            # one point per document the question compares: each one's best unit
            docs = [d for d in qa.doc_hint if d != main.doc_id] if len(qa.doc_hint) >= 2 else []
            for u, s_ in ranked[1:]:
                if len(chosen) >= MAX_POINTS:
                    break
                if u.doc_id in {c.doc_id for c in chosen} or self._not_a_point(u, qa):
                    continue
                if (docs and u.doc_id in docs) or (not docs and s_ >= COMPARE_SHARE * top):
                    chosen.append(u)
        share = SECOND_POINT if ev.coverage == "answered" else SECOND_POINT_UNSURE
        limit = MAX_POINTS if ev.coverage == "answered" else MAX_POINTS_UNSURE
        for u, s_ in ranked[1:]:
            if len(chosen) >= limit or s_ < share * top:
                break
            if self._not_a_point(u, qa) or any(self._related_family(u, c) for c in chosen):
                continue
            if u.doc_id != main.doc_id and ev.coverage == "answered" and qa.doc_hint:
                continue  # the question names its document: the others' provisions are related ones
            chosen.append(u)
        return self._build(r, ev, words, chosen, main, whole_list, ranked, top)

    def _pinned(self, r: Retrieval, ev: Evidence, words: list[tuple[str, float]], pinned: list[Clause]) -> Selection:
        main = ev.filler[0] if ev.filler is not None and ev.filler[0].uid in {u.uid for u in pinned} else pinned[0]
        if ev.filler is not None and ev.filler[0].uid != main.uid:
            ev.filler = None
        chosen = [main] + [u for u in pinned if u.uid != main.uid]
        nodes = self.judge.index.nodes
        ranked = [(self.corpus.clause(nodes[p].metadata["doc_id"], nodes[p].metadata["label"]), s)
                  for p, s in r.ranked[:40]]
        top = ranked[0][1] if ranked else 1.0
        whole_list = bool(_LIST_QUESTION.search(r.qa.text.lower()))
        return self._build(r, ev, words, chosen, main, whole_list, ranked, top)

    def _build(self, r: Retrieval, ev: Evidence, words: list[tuple[str, float]], chosen: list[Clause], main: Clause,
               whole_list: bool, ranked: list[tuple[Clause, float]], top: float) -> Selection:
        """The points of the chosen units, 同条其他要求, the direct quote and related provisions."""
        qa = r.qa
        sel = Selection()
        matched = {h.label: h.matched_children for h in r.hits}
        matched_all = [c for h in r.hits for c in h.matched_children]
        for i, u in enumerate(chosen):
            m = matched.get(u.label, []) + [c for c in matched_all if c.startswith(u.label + " ")]
            if i > 0 and not SECONDARY_ITEMS:
                m = []  # a further point is its own provision, without its list
            p, rest = self.point(u, qa, m, whole=whole_list and i == 0)
            sel.points.append(p)
            sel.other_items.extend(rest)
            if u.kind == "item" and u.parent:
                parent = self._doc(u).by_label[u.parent]
                sel.other_items.extend(self.cite(c) for c in self._doc(u).children(parent)
                                       if c.label != u.label and c.text and c.kind == "item")
        sel.main = main
        if ev.filler is not None:
            sel.direct_quote = ev.filler
        else:
            sel.direct_quote = (main, self.best_sentence(main, words)) if main.text else None
        shown = {c.uid for p in sel.points for c in p.citations()}
        sel.other_items = [c for c in dict((c.uid, c) for c in sel.other_items).values() if c.uid not in shown]
        docs = {u.doc_id for u in chosen}
        for u, s in ranked[1:]:
            if len(sel.related) >= MAX_RELATED or s < RELATED_SHARE * top:
                break
            if u.doc_id in docs or u.kind == "reference" or u.uid in shown:
                continue
            sel.related.append(self.cite(u, drop_list_intro(u.text) or u.text or None))
            docs.add(u.doc_id)
        return sel

    # -- role x phase ------------------------------------------------------------------
    def _has_topic(self, qa: QueryAnalysis, words: list[tuple[str, float]]) -> bool:
        """Informative words besides the role and phase named (and their synonyms)."""
        vocab = self.corpus.vocab
        names = {t for r in vocab.roles if r.id in qa.roles for t in (r.id, *r.synonyms, *r.mentions)}
        names |= {t for p in vocab.phases if p.id in qa.phases for t in (p.id, *p.synonyms, *p.mentions)}
        return any(w >= 2.0 and not any(t in n or n in t for n in names) for t, w in words)

    def _cross_phase(self, u: Clause) -> bool:
        """Tagged with every phase of its scheme (T/GXAS 1220—2026 chapters 5, 10, 11): it
        holds in all of them and says nothing about one in particular."""
        vocab = self.corpus.vocab
        schemes = {p.scheme for p in vocab.phases if p.id in u.phases}
        return any(set(vocab.phases_of_scheme(s)) <= set(u.phases) for s in schemes)

    def _role_phase(self, qa: QueryAnalysis, doc_ids: list[str]) -> Selection | None:
        """"What does role R do in phase P": units of the phase that name or are owned by the
        role, then the role's standing duties (its own section, which holds in every phase).
        A unit that holds in every phase (such as the KPI list of 11.1, which names every
        role as something to be evaluated) is not an answer to it."""
        roles, phases = set(qa.roles), set(qa.phases)
        docs = [d for d in self.corpus.documents.values() if not doc_ids or d.doc_id in doc_ids]
        phase_units: list[Clause] = []
        for doc in docs:
            for u in doc.units:
                if (u.kind in ("clause", "item") and u.text and set(u.phases) & phases
                        and set(u.roles) & roles and not set(u.owner_roles) & roles
                        and not self._cross_phase(u)):
                    phase_units.append(u)
        standing: list[Clause] = []
        for doc in docs:
            for (d, label), owners in self.corpus.vocab.owners.items():
                if d != doc.doc_id or not set(owners) & roles or label not in doc.by_label:
                    continue
                root = doc.by_label[label]
                standing.extend(c for c in [root, *doc.descendants(root)] if c.text and c.kind == "clause")
        if not phase_units and not standing:
            return None
        sel = Selection()
        for u in phase_units[:ROLE_PHASE_UNITS]:
            sel.points.append(Point(self.cite(u), context=self._context(u)))
        for u in standing[:ROLE_PHASE_UNITS]:
            p, rest = self.point(u, qa, [], whole=True)
            p.note = "常设职责"
            sel.points.append(p)
            sel.other_items.extend(rest)
        sel.main = (phase_units or standing)[0]
        role, phase = "、".join(qa.roles), "、".join(qa.phases)
        if not phase_units:
            sel.lead = (f"现有文件没有单列{role}在{phase}的专门要求。以下是{role}的常设职责（各阶段通用），"
                        f"{phase}的通用服务见“其他相关规定”。")
            for (doc_id, label), ph in self.corpus.vocab.phase_sections.items():
                if set(ph) & phases and doc_id in self.corpus.documents:
                    doc = self.corpus.doc(doc_id)
                    if label in doc.by_label:
                        sel.related.extend(self.cite(c, c.title or None) for c in doc.children(doc.by_label[label])
                                           if c.title)
        return sel
