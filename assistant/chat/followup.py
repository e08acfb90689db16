"""Resolve a follow-up question against the previous turn of a session."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.retrieval.query import QueryAnalyzer

CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
RE_NTH = re.compile(r"第\s*([一二两三四五六七八九十]|\d{1,2})\s*(条|点|项|个)")
RE_OTHER_DOCS = re.compile(r"(其他|其它|别的)(文件|标准|文件里|文件中|规定)|还有(哪些|什么|别的)文件")
RE_STRENGTH = re.compile(r"强制|必须|硬性|一定要|可选")
RE_THIS = re.compile(r"这一?(条|项|款|点)|该(条|项|款)|上面|上述|刚才")


@dataclass
class Resolution:
    kind: str  # new | nth | strength | other-docs | carry
    question: str  # the effective question
    nth: int | None = None
    exclude_docs: list[str] = field(default_factory=list)


def _nth(q: str) -> int | None:
    m = RE_NTH.search(q)
    if not m:
        return None
    v = m.group(1)
    return int(v) if v.isdigit() else CN_DIGITS[v]


def resolve(question: str, prev: dict | None, analyzer: QueryAnalyzer) -> Resolution:
    """prev: the previous turn's context (question, roles, phases, citations, doc_ids)."""
    q = question.strip()
    if not prev:
        return Resolution("new", q)
    cites = prev.get("citations") or []
    n = _nth(q)
    if RE_STRENGTH.search(q) and (RE_THIS.search(q) or n) and cites:
        return Resolution("strength", prev["question"], nth=n or 1)
    if n and cites and len(q) <= 20:
        return Resolution("nth", prev["question"], nth=n)
    if RE_OTHER_DOCS.search(q):
        return Resolution("other-docs", prev["question"], exclude_docs=list(prev.get("doc_ids") or []))
    qa = analyzer.analyze(q)
    short = len(q) <= 16 and (q.startswith(("那", "如果")) or q.endswith(("呢", "呢？", "呢?")))
    if short and (qa.phases or qa.roles):
        base = prev["question"]
        base = _swap(base, analyzer.phase_m.find(base), "、".join(qa.phases)) if qa.phases else base
        base = _swap(base, analyzer.role_m.find(base), "、".join(qa.roles)) if qa.roles else base
        return Resolution("carry", base)
    return Resolution("new", q)


def _swap(text: str, found: list[tuple[str, str]], new: str) -> str:
    """Put `new` where the first found term stood (drop the others); append it if none."""
    if not found:
        return f"{text.rstrip('？?。')}（{new}）"
    first = found[0][0]
    text = text.replace(first, "\x00", 1)
    for term, _ in found[1:]:
        text = text.replace(term, "", 1)
    return text.replace("\x00", new)
