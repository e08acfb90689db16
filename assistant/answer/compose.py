"""Answer stage: a grounded Chinese answer composed from retrieved clause units.

Default (no LLM): a lead sentence naming the source document(s), then the
requirements as numbered points quoting unit text verbatim, each followed by its
citation, grouped by strength (应 / 宜 / 可); a 相关条款 list from other documents.
Every citation passes the validator before it is returned.

Abstention: the answer is `supported: false` when the question's topic words never
occur in the corpus, when it asks for an amount of money the evidence does not
state, or when the only evidence is a bibliography entry. Thresholds and word lists
were calibrated on the gold set (evals/README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.models import STRENGTH_GROUPS, Answer, Citation
from assistant.answer.citations import citation_for, validate_citations
from assistant.corpus.model import STRENGTH_ZH, Clause
from assistant.corpus.store import Corpus
from assistant.index.store import ClauseIndex
from assistant.retrieval.query import QueryAnalysis, load_thesaurus
from assistant.retrieval.retriever import Hit, HybridClauseRetriever, SearchFilters

MAX_POINTS = 14
MONEY_RE = re.compile(r"多少钱|费用|收费|缴费|交.{0,6}费|税率|工资|多少万元|补贴标准|奖励标准|申报费|保证金|押金|使用费|预算|注册资本|赔偿标准|赔偿金额"
                      r"|多少.{0,6}(资金|补助|补贴|经费|奖金)")
DATE_RE = re.compile(r"截止日期|截止时间|哪天|几号|几月几日|什么时候截止")
DATE_EVIDENCE_RE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")
FORM_WORDS_RE = re.compile(r"表|填|选项|指标|栏|格式")
MONEY_EVIDENCE_RE = re.compile(r"\d+(\.\d+)?\s*(万|亿)?元")
DURATION_RE = re.compile(r"几天|多少天|几个月|几年|多少年|多长时间|多久|多长|多少分钟|几分钟|多少小时|几个?小时")
DURATION_EVIDENCE_RE = re.compile(r"(\d+|[一二三四五六七八九十两]+)\s*(天|日|个月|月|年|周|分钟|小时)|每年|每季度|定期|年度")
COUNT_RE = re.compile(r"多少个|多少家|几家|多少项|多少座")
COUNT_EVIDENCE_RE = re.compile(r"(\d+|[一二三四五六七八九十两百千]+)\s*(个|家|项|座|批|名)")
# A word the corpus never uses names a topic when jieba tags it a noun, or when it is
# a specialised word: in jieba's dictionary but rare in general Chinese (退税 68,
# 抢注 21, 发证 33), unlike everyday verbs (交给 3204, 加入 4855, 获奖 989, 拿到 1464).
# A verb ending in a resultative or directional complement (填好, 交到, 拿到, 报上去)
# is everyday grammar, not a topic, however rare the compound.
SPECIALISED_MAX_FREQ = 200
COMPLEMENT_ENDINGS = tuple("好到完给上下来去成出掉住")
YEAR_RE = re.compile(r"(19|20)\d{2}年")
STRENGTH_Q_RE = re.compile(r"强制|必须|硬性|一定要|是不是.{0,4}要求|是.{0,2}应.{0,2}还是")


def _load_words(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    return frozenset(x.strip() for x in path.read_text(encoding="utf-8").splitlines()
                     if x.strip() and not x.startswith("#"))


@dataclass
class Evidence:
    ok: bool
    reason: str = ""
    unknown_terms: tuple[str, ...] = ()


class AnswerComposer:
    def __init__(self, index: ClauseIndex, retriever: HybridClauseRetriever) -> None:
        self.index = index
        self.corpus: Corpus = index.corpus
        self.retriever = retriever
        vocab_dir = self.corpus.root / "vocab"
        self.question_words = _load_words(vocab_dir / "question_words.txt")
        known: set[str] = set()
        for r in self.corpus.vocab.roles:
            known.update(r.synonyms)
        for p in self.corpus.vocab.phases:
            known.update(p.synonyms)
        for e in load_thesaurus(vocab_dir / "thesaurus.toml"):
            known.update(e.terms)
        self.known_terms = frozenset(known)
        # build jieba's POS table now (~0.5 s), not while the first question waits
        index.tokenizer.nouns("预热")
        self.corpus_text = "\n".join(
            f"{u.title or ''} {u.text}" for u in self.corpus.units()) + "\n".join(
            f"{d.spec.title} {d.spec.code}" for d in self.corpus.documents.values())

    # -- evidence ----------------------------------------------------------------
    def _known(self, token: str) -> bool:
        vocab = self.index.bm25.vocab_dict
        if token in vocab or token in self.known_terms or token in self.question_words:
            return True
        if token in self.corpus_text or token.lower() in self.corpus_text.lower():
            return True
        parts = [p for p in self.index.tokenizer(token) if p != token]
        return bool(parts) and all(len(p) < 2 or p in vocab for p in parts)

    def assess(self, qa: QueryAnalysis, hits: list[Hit]) -> Evidence:
        if qa.definition and self._term_in(qa.text) is not None:
            return Evidence(True)  # the corpus defines the very term asked about
        if not hits:
            return Evidence(False, "no-hits")
        tokens = [t for t in self.index.tokenizer(qa.text) if len(t) >= 2 and t not in self.question_words]
        unknown = tuple(dict.fromkeys(t for t in tokens if not self._known(t)))
        # a compound is unknown only if its own parts are not all known
        unknown = tuple(t for t in unknown if not any(t != u and t in u for u in unknown))
        # nouns and specialised words name a topic; an everyday verb or a segmentation
        # fragment ("交给", "要建") does not
        nouns = self.index.tokenizer.nouns(qa.text)
        unknown = tuple(t for t in unknown if any(t in n for n in nouns) or self._specialised(t))
        if unknown:
            return Evidence(False, "unknown-terms", unknown)
        evidence = " ".join(self._hit_text(h) for h in hits[:3])
        if MONEY_RE.search(qa.text) and not MONEY_EVIDENCE_RE.search(evidence):
            return Evidence(False, "no-amount")
        if DURATION_RE.search(qa.text) and not DURATION_EVIDENCE_RE.search(evidence):
            return Evidence(False, "no-duration")
        if COUNT_RE.search(qa.text) and not COUNT_EVIDENCE_RE.search(evidence):
            return Evidence(False, "no-count")
        if DATE_RE.search(qa.text) and not DATE_EVIDENCE_RE.search(evidence):
            return Evidence(False, "no-date")
        if hits[0].kind == "table-row" and not FORM_WORDS_RE.search(qa.text):
            return Evidence(False, "form-field-only")
        year = YEAR_RE.search(qa.text)
        if year and year.group(0) not in evidence:
            return Evidence(False, "no-year", (year.group(0),))
        if hits[0].label.startswith("参考文献 [") and "引用" not in qa.text and "参考" not in qa.text:
            return Evidence(False, "bibliography-only")
        return Evidence(True)

    def _specialised(self, token: str) -> bool:
        return (0 < self.index.tokenizer.general_frequency(token) < SPECIALISED_MAX_FREQ
                and not token.endswith(COMPLEMENT_ENDINGS))

    def _hit_text(self, h: Hit) -> str:
        doc = self.corpus.doc(h.doc_id)
        return doc.full_text(doc.by_label[h.label])

    # -- citations -----------------------------------------------------------------
    def citation(self, unit: Clause) -> Citation:
        return citation_for(self.corpus, unit)

    # -- composing -------------------------------------------------------------------
    def answer(self, question: str, filters: SearchFilters | None = None, top_k: int = 10) -> Answer:
        hits = self.retriever.search(question, filters, top_k=top_k)
        qa = self.retriever.analyzer.analyze(question)
        return self.compose(question, qa, hits, filters)

    def abstain(self, question: str, qa: QueryAnalysis, hits: list[Hit], ev: Evidence) -> Answer:
        topics = []
        for h in hits[:5]:
            name = self.corpus.doc(h.doc_id).spec.cite_name
            title = h.title or (h.heading_path.split(" > ")[-1] if h.heading_path else "") or h.text[:20]
            topics.append(f"{name} {h.label} {title}".strip())
        if ev.reason == "unknown-terms":
            why = "现有文件中没有涉及“" + "”“".join(ev.unknown_terms) + "”的内容"
        elif ev.reason == "no-amount":
            why = "现有文件没有规定具体金额或收费标准"
        elif ev.reason == "no-duration":
            why = "现有文件没有规定相应的时限或天数"
        elif ev.reason == "no-count":
            why = "现有文件没有相应的数量统计"
        elif ev.reason == "no-date":
            why = "现有文件没有规定相应的日期"
        elif ev.reason == "form-field-only":
            why = "现有文件只在表格栏目中出现相关字样，没有具体规定"
        elif ev.reason == "no-year":
            why = f"现有文件没有{ev.unknown_terms[0]}的相关信息"
        elif ev.reason == "bibliography-only":
            why = "现有文件只在参考文献中提到相关标准，没有具体规定"
        else:
            why = "现有文件中没有找到相关规定"
        text = f"无依据：{why}，无法给出有出处的答复。"
        if topics:
            text += "\n文件中相近的内容有：\n" + "\n".join(f"- {t}" for t in topics[:3])
        return Answer(question=question, answer=text, supported=False, nearest_topics=topics[:3],
                      mode="abstain", roles=qa.roles, phases=qa.phases)

    def compose(self, question: str, qa: QueryAnalysis, hits: list[Hit],
                filters: SearchFilters | None = None) -> Answer:
        ev = self.assess(qa, hits)
        if not ev.ok:
            return self.abstain(question, qa, hits, ev)
        points: list[tuple[Clause, str]] = []  # (unit, note)
        if qa.definition:
            term = self._term_in(qa.text)
            if term is not None:
                points.append((term, ""))
                points += [(c, "") for c in self.corpus.doc(term.doc_id).children(term)]
        phase_related: list[Clause] = []
        phase_specific = True
        if not points and qa.roles and qa.phases:
            points, phase_specific = self._role_phase_points(qa, filters.doc_ids if filters else [])
            phase_related = self._phase_sections(qa)
        main_hits: list[Hit] = []
        if not points:
            top = hits[0]
            main_hits = [h for h in hits[:4] if h.score >= 0.6 * top.score
                         and (h.doc_id == top.doc_id or h.score >= 0.8 * top.score)][:3]
            for h in main_hits:
                points += self._points_for_hit(h, is_top=h is top)
        seen: set[str] = set()
        uniq = []
        for unit, note in points:
            if unit.uid not in seen and unit.text and unit.kind != "reference":
                seen.add(unit.uid)
                uniq.append((unit, note))
        points = _ordered(uniq[:MAX_POINTS], qa.roles)
        cited_docs = list(dict.fromkeys(u.doc_id for u, _ in points))
        related_units = list(phase_related)
        for h in hits:
            if h.doc_id not in cited_docs and all(h.label != r.label for r in related_units):
                related_units.append(self.corpus.clause(h.doc_id, h.label))
            if len(related_units) >= 3 + len(phase_related):
                break
        citations = [self.citation(u) for u, _ in points]
        related = [self.citation(u) for u in related_units]
        citations, rejected = validate_citations(self.corpus, citations)
        related, _ = validate_citations(self.corpus, related)
        valid = {c.doc_id + ":" + c.label for c in citations}
        points = [(u, n) for u, n in points if u.uid in valid]
        lead = None
        if qa.definition and points and points[0][0].kind == "term":
            term = points[0][0]
            lead = f"「{self._term_name(term)}」在{self.corpus.doc(term.doc_id).spec.full_name}中的定义如下："
        elif not phase_specific and points:
            role, phase = "、".join(qa.roles), "、".join(qa.phases)
            lead = (f"现有文件没有单列{role}在{phase}的专门要求。以下是{role}的常设职责（各阶段通用）"
                    + (f"；{phase}的通用服务见文末“相关条款”" if phase_related else "") + "：")
        text = self._render(qa, points, related, lead)
        return Answer(question=question, answer=text, supported=bool(citations), citations=citations,
                      related=related, roles=qa.roles, phases=qa.phases, doc_ids=cited_docs,
                      notes=[f"已剔除未通过核验的引用：{c.cite}（{why}）" for c, why in rejected])

    def _points_for_hit(self, h: Hit, is_top: bool) -> list[tuple[Clause, str]]:
        doc = self.corpus.doc(h.doc_id)
        head = doc.by_label[h.label]
        out: list[tuple[Clause, str]] = []
        if head.text and head.kind not in ("table",):
            out.append((head, ""))
        children = doc.children(head)
        items = [c for c in children if c.kind in ("item", "note", "form", "table-row", "clause")]
        if is_top and (not head.text or any(c.kind == "item" for c in children)):
            chosen = items[:12]
        elif not head.text:
            chosen = items[:4]  # a heading: what stands under it
        else:
            chosen = [doc.by_label[x] for x in h.matched_children]
        for c in sorted(chosen, key=lambda u: u.order):
            out.append((c, ""))
            if c.kind == "item" and (is_top or c.label in h.matched_children):
                out += [(g, "") for g in doc.children(c)[:6]]
        return out

    def _term_in(self, question: str) -> Clause | None:
        """The defined term (术语和定义) the question names, longest name first."""
        best: Clause | None = None
        for u in self.corpus.units():
            if u.kind != "term" or not u.title:
                continue
            name = self._term_name(u)
            if name and name in question and (best is None or len(name) > len(self._term_name(best))):
                best = u
        return best

    @staticmethod
    def _term_name(u: Clause) -> str:
        m = re.match(r"[\u4e00-\u9fff“”]+", u.title or "")
        return m.group(0) if m else (u.title or "")

    def _phase_sections(self, qa: QueryAnalysis) -> list[Clause]:
        """The sections of the asked lifecycle phase (e.g. chapter 7's 7.1–7.4)."""
        out = []
        for (doc_id, label), phases in self.corpus.vocab.phase_sections.items():
            if set(phases) & set(qa.phases) and doc_id in self.corpus.documents:
                doc = self.corpus.doc(doc_id)
                if label in doc.by_label:
                    out += [c for c in doc.children(doc.by_label[label]) if c.title][:6]
        return out

    def _cross_phase(self, u: Clause) -> bool:
        """Tagged with every phase of its scheme (T/GXAS 1220—2026 chapters 5, 10, 11): it
        holds in all of them and says nothing about one in particular."""
        vocab = self.corpus.vocab
        schemes = {p.scheme for p in vocab.phases if p.id in u.phases}
        return any(set(vocab.phases_of_scheme(s)) <= set(u.phases) for s in schemes)

    def _role_phase_points(self, qa: QueryAnalysis, doc_ids: list[str]) -> tuple[list[tuple[Clause, str]], bool]:
        """Units of the asked phase that name or are owned by the role, then the role's
        standing duties (its own section, which holds in every phase). The flag says
        whether any unit is specific to the phase: a unit that holds in every phase (such
        as the KPI list of 11.1, which names every role as something to be evaluated) is
        not an answer to "what does this role do in this phase"."""
        roles, phases = set(qa.roles), set(qa.phases)
        phase_units, standing = [], []
        docs = [d for d in self.corpus.documents.values() if not doc_ids or d.doc_id in doc_ids]
        for doc in docs:
            for u in doc.units:
                # units of the phase that name the role (its own section comes below)
                if (u.kind in ("clause", "item") and u.text and set(u.phases) & phases
                        and set(u.roles) & roles and not set(u.owner_roles) & roles
                        and not self._cross_phase(u)):
                    phase_units.append((u, ""))
        for doc in docs:
            for (d, label), owners in self.corpus.vocab.owners.items():
                if d != doc.doc_id or not set(owners) & roles or label not in doc.by_label:
                    continue
                root = doc.by_label[label]
                for c in [root, *doc.children(root)]:
                    if c.text and c.kind in ("clause", "item", "chapter"):
                        standing.append((c, "常设职责"))
        return phase_units[:8] + standing[:8], bool(phase_units)

    def _render(self, qa: QueryAnalysis, points: list[tuple[Clause, str]], related: list[Citation],
                lead_text: str | None = None) -> str:
        docs = list(dict.fromkeys(u.doc_id for u, _ in points))
        lead = "根据" + "、".join(self.corpus.doc(d).spec.full_name for d in docs)
        if qa.roles or qa.phases:
            lead += "，针对" + "、".join(qa.roles + qa.phases)
        lines = [lead_text or lead + "，相关规定如下："]
        n = 0
        roles = set(qa.roles)
        for role_group in (0, 1):
            members = [(u, note) for u, note in points if _role_group(u, roles) == role_group]
            if not members:
                continue
            if roles:
                lines.append("\n【" + ("、".join(qa.roles) + "相关" if role_group == 0 else "其他相关规定") + "】")
            for strength, heading in STRENGTH_GROUPS:
                group = [(u, note) for u, note in members if u.strength == strength]
                if not group:
                    continue
                lines.append(f"\n{heading}")
                for u, note in group:
                    n += 1
                    quote = (u.text or u.title or "").replace("\n", " ")
                    mark = f"（{note}）" if note else ""
                    lines.append(f"{n}. {quote}{mark}{self.citation(u).cite}")
        if related:
            lines.append("\n相关条款：")
            for c in related:
                title = self.corpus.clause(c.doc_id, c.label).title or c.quote[:30].replace("\n", " ")
                if title == c.quote[:30].replace("\n", " ") and len(c.quote) > 30:
                    title += "…"
                lines.append(f"- {c.cite} {title}")
        return "\n".join(lines)

    # -- strength questions about a cited unit -------------------------------------
    def strength_answer(self, question: str, unit: Clause) -> Answer:
        z = STRENGTH_ZH[unit.strength]
        meaning = {"shall": "必须执行的要求", "shall-not": "禁止性要求", "should": "推荐性要求（建议执行，非强制）",
                   "may": "允许性表述（可选）", "none": "无规范性用语的陈述"}[unit.strength]
        c = self.citation(unit)
        inherited = "（本项自身无助动词，强度承接其引导语）" if unit.strength_inherited else ""
        text = f"{c.cite}为「{z}」条款，属于{meaning}{inherited}。\n原文：{(unit.text or '').replace(chr(10), ' ')}{c.cite}"
        ok, _ = validate_citations(self.corpus, [c])
        return Answer(question=question, answer=text, supported=bool(ok), citations=ok, doc_ids=[unit.doc_id])

    def detail_answer(self, question: str, unit: Clause) -> Answer:
        """"第二条具体怎么做": the unit with everything under it."""
        doc = self.corpus.doc(unit.doc_id)
        points = [(unit, "")] + [(c, "") for c in doc.descendants(unit)][: MAX_POINTS - 1]
        points = _ordered([(u, n) for u, n in points if u.text], [])
        citations, _ = validate_citations(self.corpus, [self.citation(u) for u, _ in points])
        qa = QueryAnalysis(text=question)
        return Answer(question=question, answer=self._render(qa, points, []), supported=bool(citations),
                      citations=citations, doc_ids=[unit.doc_id])


_STRENGTH_RANK = {k: i for i, (k, _) in enumerate(STRENGTH_GROUPS)}


def _role_group(u: Clause, roles: set[str]) -> int:
    """0: the unit names or is owned by a role the question is about; 1: the rest."""
    return 0 if not roles or set(u.roles) & roles else 1


def _ordered(points: list[tuple[Clause, str]], roles: list[str]) -> list[tuple[Clause, str]]:
    """The order the answer shows its points in (role group, then strength), so that
    "第N条" in a follow-up means the N-th point the user saw."""
    r = set(roles)
    return sorted(points, key=lambda p: (_role_group(p[0], r), _STRENGTH_RANK[p[0].strength]))
