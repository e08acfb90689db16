"""Query understanding: roles and phases named in a question, and thesaurus expansion."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.corpus.vocab import Vocab
from assistant.errors import ManifestError


@dataclass(frozen=True)
class ThesaurusEntry:
    terms: tuple[str, ...]
    expand: tuple[str, ...]


@lru_cache(maxsize=8)
def load_thesaurus(path: Path) -> tuple[ThesaurusEntry, ...]:
    if not Path(path).is_file():
        return ()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"同义词表 {path} 格式错误：{exc}") from exc
    return tuple(ThesaurusEntry(tuple(e.get("terms", [])), tuple(e.get("expand", [])))
                 for e in data.get("entry", []))


@dataclass
class QueryAnalysis:
    text: str
    roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    doc_hint: list[str] = field(default_factory=list)
    definition: bool = False  # "X是什么": 术语和定义 first

    @property
    def sparse_text(self) -> str:
        """The question plus the standards' words for what the user said."""
        return " ".join([self.text, *self.expansions])


_DOC_HINTS = {
    # words that point at one document
    "红盾": "hzas-8-2020",
    "陪你跑一次": "hzas-8-2020",
    "试点": None,  # both MIIT documents: no single hint
}


# "这个标准里…" / "本文件中…": a pointer at the document, not a topic word
_DEICTIC_RE = re.compile(r"(这个|这份|这一|该|本|此)(标准|文件|规范|指南|通知)(里面|里|中的|中|里的|上)?")
_DEFINITION_RE = re.compile(r"是什么$|是什么[？?。]?$|什么意思|的定义|定义是|指什么|含义|是指什么")


class QueryAnalyzer:
    def __init__(self, vocab: Vocab, thesaurus: tuple[ThesaurusEntry, ...]) -> None:
        self.role_m = vocab.matcher("role", "synonyms")
        self.phase_m = vocab.matcher("phase", "synonyms")
        self.thesaurus = thesaurus

    def analyze(self, question: str) -> QueryAnalysis:
        q = re.sub(r"\s+", " ", question).strip()
        q = _DEICTIC_RE.sub("", q).strip() or q
        qa = QueryAnalysis(text=q)
        qa.roles = self.role_m.ids(q)
        # "企业" alone is too common to steer retrieval unless nothing else is named
        if len(qa.roles) > 1 and "品牌授权企业" in qa.roles:
            named = [t for t, r in self.role_m.find(q) if r == "品牌授权企业"]
            if named and all(t == "企业" for t in named):
                qa.roles.remove("品牌授权企业")
        qa.phases = self.phase_m.ids(q)
        # the standards' names for the roles and phases the user named
        qa.expansions.extend(x for x in qa.roles + qa.phases if x not in q)
        for entry in self.thesaurus:
            if any(t in q for t in entry.terms):
                qa.expansions.extend(x for x in entry.expand if x not in qa.expansions)
        qa.definition = bool(_DEFINITION_RE.search(q))
        for word, doc in _DOC_HINTS.items():
            if doc and word in q and doc not in qa.doc_hint:
                qa.doc_hint.append(doc)
        return qa
