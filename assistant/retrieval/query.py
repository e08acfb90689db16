"""Query understanding: normalization, roles and phases named in a question, documents it
points at, and thesaurus expansion.

Normalization first, so that every later step sees one form of the question: traditional
characters become simplified (OpenCC t2s), full-width letters, digits and punctuation
become their ordinary forms (NFKC, except the Chinese punctuation the documents use),
English is lower-cased, whitespace collapsed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.corpus.manifest import DocumentSpec
from assistant.corpus.vocab import Vocab

# Chinese punctuation that NFKC would turn into ASCII; the documents use these forms
_KEEP = str.maketrans({"，": "\x01", "：": "\x02", "；": "\x03", "（": "\x04", "）": "\x05", "？": "\x06",
                       "！": "\x07"})
_RESTORE = str.maketrans({"\x01": "，", "\x02": "：", "\x03": "；", "\x04": "（", "\x05": "）", "\x06": "？",
                          "\x07": "！"})
_CJK = re.compile(r"[\u4e00-\u9fff]")
# how much the word-level side counts for an English question, matched through the
# thesaurus's and the glossary's Chinese for its words (seventh session: 0.75 → 1.0, R@5 as
# high or higher on the English questions of each of the three calibration sets, answer hit
# +4 over them; evals/README.md)
ENGLISH_SPARSE = 1.0
_LATIN = re.compile(r"[A-Za-z]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """One form of a question: simplified characters, half-width letters and digits, Chinese
    punctuation kept, whitespace collapsed, zero-width and control characters dropped."""
    t = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\n\t")
    t = unicodedata.normalize("NFKC", t.translate(_KEEP)).translate(_RESTORE)
    t = _t2s().convert(t)
    return re.sub(r"\s+", " ", t).strip()


def cjk_share(text: str) -> float:
    """Share of Chinese characters among the letters of a question (0 for English)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return cjk / (cjk + latin / 4 or 1)  # about four Latin letters make a word


@dataclass
class QueryAnalysis:
    text: str  # the normalized question
    original: str = ""
    roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    # an English question's corpus words, found by the dense model (assistant/index/glossary.py):
    # searched like expansions, but they say nothing of whether the question is in the domain
    glossary: list[str] = field(default_factory=list)
    doc_hint: list[str] = field(default_factory=list)
    doc_names: list[str] = field(default_factory=list)  # the words that named a document ("广西标准")
    definition: bool = False  # "X是什么": 术语和定义 first
    metadata: bool = False  # "T/GXAS 1220什么时候实施": the cover page and 前言 first
    cjk: float = 1.0  # share of Chinese in the question
    # a role and phase the user set as filters (the UI's 角色/阶段, the API's role/phase) on a
    # question with a topic of its own: they steer lightly, they do not replace the topic
    hint_roles: list[str] = field(default_factory=list)
    hint_phases: list[str] = field(default_factory=list)
    curated: list = field(default_factory=list)  # CuratedMatch: admin corrections this question matches

    @property
    def sparse_cjk(self) -> float:
        """How much the word-level side counts: fully for a Chinese question, and for an
        English one whose words the thesaurus translated (it matches those); not at all for
        English the thesaurus does not know."""
        if self.cjk >= 0.5:
            return 1.0
        return ENGLISH_SPARSE if self.expansions or self.glossary else self.cjk

    @property
    def sparse_text(self) -> str:
        """The question plus the standards' words for what the user said."""
        return " ".join([self.text, *self.expansions, *self.glossary])


# "这个标准里…" / "本文件中…": a pointer at the document, not a topic word
_DEICTIC_RE = re.compile(r"(这个|这份|这一|该|本|此)(标准|文件|规范|指南|通知)(里面|里|中的|中|里的|上)?")
# a question about a document itself: its number, dates, issuer, drafters (封面 and 前言)
_METADATA_RE = re.compile(r"编号|标准号|发布单位|发布机构|哪个单位发布|谁发布|由谁发布|什么时候(开始)?(实施|发布|生效)|哪天(开始)?(实施|发布)"
                          r"|哪一?年(实施|发布)|实施日期|发布日期|(开始|正式)实施|归口|提出单位|由.{0,6}提出|起草单位|起草人|谁起草"
                          r"|哪些单位起草|技术委员会|when (was|does|did|is) .{0,40}(issued|published|effective|take effect)"
                          r"|who (issued|published|drafted)|drafting", re.I)
# the words of such a question that name what is asked about the document, not a topic
METADATA_WORDS = re.compile(r"标准号|编号|(开始|正式)?(发布|实施|生效)|归口|提出|起草单位|起草人|起草|标准|文件|技术委员会|单位|机构")
# a document's short name: a qualifier and a generic noun, which users split with a
# demonstrative ("广西那个标准", "试点的那份指南")
_GENERIC_NAME = re.compile(r"([\u4e00-\u9fff]{2,4})(标准|指南|团标|文件|通知)")
_POINTER = r"(?:这个|这份|这一|那个|那份|该|本|此)?"
_NAME_GAP = r"(?:的)?(?:那个|这个|那份|这份|那项|这项|那一份)?(?:新)?"
_DOCUMENT_WORD = re.compile(r"标准|文件|规范|指南|通知|standard|document|guide", re.I)
_DEFINITION_RE = re.compile(r"是什么$|是什么[？?。]?$|什么意思|的定义|定义是|指什么|含义|是指什么|what (is|does) .{0,40}mean")


class QueryAnalyzer:
    def __init__(self, vocab: Vocab, documents: list[DocumentSpec] | None = None, body_text: str = "") -> None:
        self.role_m = vocab.matcher("role", "synonyms")
        self.phase_m = vocab.matcher("phase", "synonyms")
        self.thesaurus = vocab.thesaurus
        # how users name a document: its code, its title, and the manifest's aliases
        names: dict[str, list[str]] = {}
        for d in documents or []:
            bare_title = re.sub(r"[“”\"'《》]", "", d.title)
            for n in (d.code.split("（")[0] if d.code and "X" not in d.code else "", d.title, bare_title, *d.aliases):
                if n and len(n) >= 2 and d.doc_id not in names.get(normalize(n).lower(), []):
                    names.setdefault(normalize(n).lower(), []).append(d.doc_id)
        self._doc_names = sorted(names.items(), key=lambda kv: -len(kv[0]))
        # a name the documents' own text uses ("红盾" in 红盾品牌) is also a topic word: it
        # steers to its document but stays in the question; so does an English name ("red
        # shield"): for the dense model it is the question's context, not a pointer
        self._topical_names = {n for n in names if n in body_text.lower() or re.fullmatch(r"[a-z][a-z ]{5,}", n)}

    @staticmethod
    def _spaced(name: str, text: str) -> str:
        """A name such as 广西标准 said with a demonstrative inside it ("广西那个标准",
        "红盾的那份指南"): the words as the question has them, else ""."""
        m = _GENERIC_NAME.fullmatch(name)
        if not m:
            return ""
        found = re.search(re.escape(m.group(1)) + _NAME_GAP + re.escape(m.group(2)), text)
        return found.group(0) if found else ""

    def analyze(self, question: str) -> QueryAnalysis:
        original = question
        q = normalize(question)
        low = q.lower()
        qa = QueryAnalysis(text=q, original=original, cjk=cjk_share(q))
        for name, docs in self._doc_names:
            found = name if name in low else self._spaced(name, low)
            if found:
                qa.doc_hint.extend(d for d in docs if d not in qa.doc_hint)
                qa.doc_names.append(found)
                low = low.replace(found, " ")
        q = _DEICTIC_RE.sub("", q).strip() or q
        # a document's name points at it (doc_hint boosts it); as words it would pull the
        # question to the units that repeat the name (its cover, its bibliography)
        named = q
        for name in qa.doc_names:
            if name not in self._topical_names:
                # with the demonstrative that pointed at it ("这份广西标准")
                named = re.sub(_POINTER + re.escape(name), " ", named, flags=re.I)
        q = re.sub(r"\s+", " ", named).strip() if len(re.sub(r"[\W_]", "", named)) >= 2 else q
        qa.text = q
        qa.roles = self.role_m.ids(q)
        # "企业" alone is too common to steer retrieval unless nothing else is named
        if len(qa.roles) > 1 and "品牌授权企业" in qa.roles:
            named = [t for t, r in self.role_m.find(q) if r == "品牌授权企业"]
            if named and all(t == "企业" for t in named):
                qa.roles.remove("品牌授权企业")
        qa.phases = self.phase_m.ids(q)
        # the standards' names for the roles and phases the user named
        qa.expansions.extend(x for x in qa.roles + qa.phases if x not in q)
        low_q = q.lower()
        for entry in self.thesaurus:
            if any(t.lower() in low_q for t in entry.terms):
                qa.expansions.extend(x for x in entry.expand if x not in qa.expansions)

        qa.definition = bool(_DEFINITION_RE.search(q.lower()))
        qa.metadata = bool(_METADATA_RE.search(q)) and bool(qa.doc_hint or _DOCUMENT_WORD.search(q))
        return qa
