"""The evidence decision: does a retrieved unit state what the question asks?

One decision over the retrieved evidence, three outcomes:
- answered: the decision is confident and, when the question asks for a slot (who, how
  much, when, how many…), a unit about the question's topic holds a filler of that slot;
- partial: the documents address the topic but the decision cannot claim they state what
  was asked — either the asked slot has no filler in any of the top units (the answer says
  so: `missing`), or the decision is unsure (the answer shows the closest provisions and
  asks the user to check them);
- none: no relevant provision at all (weather, programming, another field): a second
  logistic regression over the same signals, fitted on the calibration sets' off-domain
  questions against their answerable and near-domain ones
  (corpus/vocab/offdomain_model.json, with the threshold cross-validation chose).

The signals (`features`) are measured, not listed words: how much of the question's
informative content the top units cover (weights from general-Chinese frequency in jieba's
dictionary, so 有点/下一步 weigh little and 审计/抢注 a lot; a word counts as covered through
the thesaurus or, partly, through shared characters: 出海↔海外), the asked slot and whether
a topical unit fills it, the dense model's similarity and the retrieval scores. They are
combined by a logistic regression fitted on the calibration set (`brand-assistant
fit-evidence`); the coefficients live in corpus/vocab/evidence_model.json and the
thresholds in Settings.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant.corpus.model import Clause
from assistant.corpus.vocab import Slot
from assistant.index.store import ClauseIndex
from assistant.retrieval.query import METADATA_WORDS
from assistant.retrieval.retriever import HybridClauseRetriever, Retrieval

TOP_UNITS = 10  # the asked slot is checked against this many units
FILLER_TOPICAL = 0.5  # a filler counts in a sentence covering this share of the question's content
FILLER_TOPICAL_ACTOR = 0.8  # …and a section heading's actor only for a sentence covering this much
NAMED_DOC_FILLER = 0.05  # a filler in a document the question names outranks an equal one elsewhere
_SENTENCE = re.compile(r"[^。；;！？\n]+[。；;！？]?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# jieba's dictionary counts: words this common carry no topic (什么 59k, 我们 99k, 可以 71k)
_COMMON = 7.0
_TOTAL = 6.0e7  # about the sum of jieba's dictionary counts
_LISTED_ONLY = 10  # a dictionary count this low: an entry listed, not a word seen in use


@dataclass
class Evidence:
    coverage: str  # answered | partial | none
    confidence: float  # p(the evidence states what was asked)
    slot: Slot | None = None
    slot_filled: bool = False
    missing: list[str] = field(default_factory=list)  # what was asked and is not stated
    uncovered: list[str] = field(default_factory=list)  # informative words no top unit uses
    filler: tuple[Clause, str] | None = None  # (unit, sentence) that fills the asked slot
    candidate: tuple[Clause, str] | None = None  # the best sentence with a filler, topical or not
    candidate_hit: Clause | None = None  # the retrieved unit that sentence was found in
    features: dict[str, float] = field(default_factory=dict)

    @property
    def absent(self) -> bool:
        """The asked detail is absent from every relevant unit (say so first)."""
        return self.slot is not None and bool(self.slot.filler) and not self.slot_filled


@dataclass
class EvidenceModel:
    """Logistic regression over named features (fitted by `brand-assistant fit-evidence`)."""

    features: list[str]
    coef: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]
    meta: dict = field(default_factory=dict)

    def probability(self, x: dict[str, float]) -> float:
        z = self.intercept
        for name, c, m, s in zip(self.features, self.coef, self.mean, self.scale):
            z += c * ((x.get(name, 0.0) - m) / (s or 1.0))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path) -> "EvidenceModel | None":
        if not Path(path).is_file():
            return None
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(d["features"], d["coef"], d["intercept"], d["mean"], d["scale"], d.get("meta", {}))

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"features": self.features, "coef": self.coef,
                                          "intercept": self.intercept, "mean": self.mean,
                                          "scale": self.scale, "meta": self.meta},
                                         ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


class EvidenceJudge:
    def __init__(self, index: ClauseIndex, retriever: HybridClauseRetriever, model: EvidenceModel | None,
                 answer_threshold: float = 0.65, none_domain: float = 0.25, none_dense: float = 0.85,
                 offdomain: EvidenceModel | None = None, offdomain_threshold: float | None = None) -> None:
        self.index = index
        self.corpus = index.corpus
        self.retriever = retriever
        self.model = model
        self.answer_threshold = answer_threshold
        self.none_domain, self.none_dense = none_domain, none_dense
        # p(off-domain): a fitted model with its cross-validated threshold (the setting
        # overrides it); without a model file, the rule below on none_domain / none_dense
        self.offdomain = offdomain
        self.offdomain_threshold = (offdomain_threshold if offdomain_threshold is not None
                                    else float((offdomain.meta if offdomain else {}).get("threshold", 0.85)))
        self.tokenizer = index.tokenizer
        # the thesaurus, both ways: a user's word is covered by the standards' words for it
        self._synonyms: dict[str, set[str]] = {}
        for e in self.corpus.vocab.thesaurus:
            group = set(e.terms) | set(e.expand)
            for t in e.terms:
                self._synonyms.setdefault(t, set()).update(group)
        for r in self.corpus.vocab.roles:
            for t in r.synonyms:
                self._synonyms.setdefault(t, set()).update({r.id, *r.mentions})
        for p in self.corpus.vocab.phases:
            for t in p.synonyms:
                self._synonyms.setdefault(t, set()).update({p.id, *p.mentions})
        self._corpus_text = "\n".join(f"{u.title or ''} {u.text}" for u in self.corpus.units())
        self._corpus_chars = set(self._corpus_text)
        self.tokenizer.nouns("预热")  # jieba's POS table now, not on the first question

    # -- content words -----------------------------------------------------------
    def weight(self, token: str) -> float:
        """Informativeness of a question word: rare in general Chinese = informative."""
        if not _CJK.search(token):
            # an English word or a number; English function words (which, the, are) carry no
            # topic, as 什么/我们 do not (scikit-learn's stop-word list)
            return 1.0 if len(token) >= 3 and token.lower() not in ENGLISH_STOP_WORDS else 0.0
        freq = self.tokenizer.general_frequency(token)
        if freq == 0 and len(token) > 1:
            # not a dictionary word (jieba's HMM joined it): as informative as its characters
            return sum(self.weight(c) for c in token) / len(token)
        w = max(0.0, math.log(_TOTAL / (freq + 50.0)) - _COMMON)
        if freq <= _LISTED_ONLY and len(token) > 1:
            # a compound the dictionary lists without counting its use (算进去, 那块: 3 each)
            # is no rarer than the most informative of its parts (算 + 进去); 七言绝句 stays
            # informative through 绝句
            parts = self._parts(token)
            if parts:
                w = min(w, max(self.weight(p) for p in parts))
        return w

    def _parts(self, token: str) -> list[str]:
        """The likeliest split of a word into shorter dictionary words (single characters
        allowed), as jieba splits a sentence: the most probable product of its parts' counts."""
        n = len(token)
        best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for end in range(1, n + 1):
            for start in range(max(0, end - 4), end):
                part = token[start:end]
                if best[start] is None or len(part) == n:
                    continue
                f = self.tokenizer.general_frequency(part)
                if f == 0 and len(part) > 1:
                    continue
                score = best[start][0] + math.log((f + 1.0) / _TOTAL)
                if best[end] is None or score > best[end][0]:
                    best[end] = (score, best[start][1] + [part])
        return best[n][1] if best[n] else []

    def content(self, qa_text: str, slot: Slot | None, doc_names: list[str] = ()) -> list[tuple[str, float]]:
        """The question's words with their weights (slot words, question forms, the words that
        name a document, and common words weigh 0)."""
        text = qa_text
        for name in doc_names:  # "广西标准", "T/GXAS 1220": a pointer at a document, not a topic
            if name not in self.retriever.analyzer._topical_names:
                text = re.sub(re.escape(name), " ", text, flags=re.I)
        if slot is not None:
            for p in slot.ask:
                text = p.sub(" ", text)
        forms = self.corpus.vocab.question_forms
        if forms is not None:
            text = forms.sub(" ", text)
        seen: dict[str, float] = {}
        for tok in self.tokenizer(text):
            if len(tok) < 2 and _CJK.search(tok):
                continue  # single characters: particles and measure words
            w = self.weight(tok)
            if w > 0 and tok not in seen:
                seen[tok] = w
        # a word and its own parts (cut_for_search gives both): keep the whole word only
        return [(t, w) for t, w in seen.items() if not any(t != o and t in o for o in seen)]

    def covered(self, token: str, text: str) -> float:
        """1 when the text uses the word or a synonym of it; a share of its characters
        otherwise (出海 and 海外 share 海), halved; 0 when none."""
        low = text.lower()
        if token.lower() in low or any(s in text for s in self._synonyms.get(token, ())):
            return 1.0
        chars = [c for c in token if _CJK.match(c)]
        if not chars:
            return 0.0
        return 0.5 * sum(c in text for c in chars) / len(chars)

    def in_corpus(self, token: str) -> bool:
        return self.covered(token, self._corpus_text) == 1.0

    # -- the decision ----------------------------------------------------------------
    def _sentences(self, unit: Clause) -> list[tuple[Clause, str]]:
        """The sentences of a unit and of everything under it, each with the unit that says
        it: a filler found in an item of a retrieved clause is cited as that item."""
        doc = self.corpus.doc(unit.doc_id)
        return [(u, sent) for u in (unit, *doc.descendants(unit)) if u.text
                for sent in _SENTENCE.findall(u.text)]

    def unit_text(self, unit: Clause) -> str:
        doc = self.corpus.doc(unit.doc_id)
        return " ".join(x for x in (unit.heading_path, unit.title or "", doc.full_text(unit)) if x)

    def features(self, r: Retrieval) -> tuple[dict[str, float], dict]:
        qa = r.qa
        vocab = self.corpus.vocab
        slot = vocab.asked_slot(qa.text)
        text = METADATA_WORDS.sub(" ", qa.text) if qa.metadata else qa.text
        words = self.content(text, slot, qa.doc_names)
        total = sum(w for _, w in words) or 1.0
        hits = r.hits[:TOP_UNITS]
        units = [self.corpus.clause(h.doc_id, h.label) for h in hits]
        texts = [self.unit_text(u) for u in units]

        def cov(text: str, strict: bool = False) -> float:
            if not words:  # nothing but a document and a slot ("T/GXAS 1220什么时候实施")
                return 1.0 if qa.metadata else 0.0
            return sum(w * (c if not strict or c == 1.0 else 0.0)
                       for t, w in words for c in [self.covered(t, text)]) / total

        cov1 = cov(texts[0]) if texts else 0.0
        cov1_strict = cov(texts[0], strict=True) if texts else 0.0
        cov3 = cov(" ".join(texts[:3])) if texts else 0.0
        cov10 = cov(" ".join(texts)) if texts else 0.0
        uncovered = [t for t, w in words if texts and self.covered(t, " ".join(texts[:3])) < 1.0]
        unknown_w = sum(w for t, w in words if not any(c in self._corpus_chars for c in t)) / total
        # the asked slot: a filler in a sentence of a top unit, the sentence (with the headings
        # it sits under) being about the question's topic
        filled, filler, filler_hit, topical_best = False, None, None, 0.0
        if slot is not None and slot.filler:
            for u, text in zip(units, texts):
                heads = f"{u.heading_path} {u.title or ''}"
                for owner, sent in self._sentences(u):
                    # the section a clause sits in names its actor ("2.2 品牌授权企业: 应建立…"),
                    # but then the sentence itself must say what was asked, verb included
                    own = slot.filled_by(sent) is not None
                    if not own and not (slot.id == "who" and slot.filled_by(heads)):
                        continue
                    # ties (a question of nothing but a document and a slot) go to the sentence
                    # sharing most characters with the question ("…实施" for "何时实施")
                    # a cover page or foreword is one context: its lines name the document
                    context = text if u.kind in ("cover", "foreword") else f"{heads} {sent}"
                    # …and a document the question names goes before the others
                    topical = (cov(context) + 0.01 * len(set(sent) & set(qa.text))
                               + (NAMED_DOC_FILLER if u.doc_id in qa.doc_hint else 0.0))
                    if not own and cov(sent) < FILLER_TOPICAL_ACTOR:
                        continue
                    if topical > topical_best:
                        topical_best, filler, filler_hit = topical, (owner, sent.strip()), u
            filled = topical_best >= FILLER_TOPICAL
        # the question's most informative word: is it in the top units (word or synonym)?
        key = max(words, key=lambda tw: tw[1])[0] if words else ""
        key_covered = 1.0 if key and texts and self.covered(key, " ".join(texts[:3])) == 1.0 else 0.0
        # …and is it anywhere in the documents at all (the word itself or a synonym)?
        key_absent = 1.0 if key and not self.in_corpus(key) else 0.0
        # is the question about this domain at all: the share of its content the documents
        # use (a word or a synonym of it occurs in them), English words through the thesaurus
        known = [(t, w) for t, w in words if self.in_corpus(t)]
        domain = sum(w for _, w in known) / total if words else 0.0
        if qa.expansions and qa.cjk < 0.5:  # an English question the thesaurus understood
            domain = max(domain, min(1.0, len(qa.expansions) / 4))
        # retrieval and dense signals
        top_pos = [p for p, _ in r.ranked[:TOP_UNITS]]
        sims = self.retriever.similarities(qa.text, top_pos[:3]) if top_pos else []
        f = {
            "cov1": cov1, "cov1_strict": cov1_strict, "cov3": cov3, "cov10": cov10,
            "unknown": unknown_w,
            "n_words": min(len(words), 12) / 12.0,
            "slot": 1.0 if slot is not None and slot.filler else 0.0,
            "slot_filled": 1.0 if filled else 0.0,
            "slot_unfilled": 1.0 if slot is not None and slot.filler and not filled else 0.0,
            "filler_topical": topical_best,
            "key_covered": key_covered,
            "key_absent": key_absent,
            "domain": domain,
            "named_doc": 1.0 if qa.doc_hint else 0.0,
            "dense1": sims[0] if sims else 0.0,
            "dense_max": max(sims) if sims else 0.0,
            "fused1": r.ranked[0][1] if r.ranked else 0.0,
            "margin": (r.ranked[0][1] - r.ranked[min(4, len(r.ranked) - 1)][1]) if len(r.ranked) > 1 else 0.0,
            "cjk": qa.cjk,
        }
        extra = {"slot": slot, "filler": filler if filled else None, "candidate": filler, "candidate_hit": filler_hit,
                 "uncovered": uncovered, "words": words}
        return f, extra

    def off_domain(self, f: dict[str, float]) -> bool:
        """No relevant provision at all. With the fitted model: p(off-domain) at or above its
        threshold. Without it: little of the question is this domain's vocabulary and no unit
        is semantically close (an English question counts as in the domain as soon as the
        thesaurus knows one of its words)."""
        if self.offdomain is not None:
            return self.offdomain.probability(f) >= self.offdomain_threshold
        if f["dense_max"] >= self.none_dense or f.get("named_doc"):
            return False  # close to a unit, or about one of the documents by name
        return f["domain"] == 0.0 if f["cjk"] < 0.5 else f["domain"] < self.none_domain

    def decide(self, r: Retrieval) -> Evidence:
        if not r.hits:
            return Evidence("none", 0.0)
        f, extra = self.features(r)
        p = self.model.probability(f) if self.model else 0.5
        slot: Slot | None = extra["slot"]
        ev = Evidence("partial", p, slot=slot, slot_filled=bool(f["slot_filled"]), features=f,
                      uncovered=extra["uncovered"], filler=extra["filler"], candidate=extra["candidate"],
                      candidate_hit=extra["candidate_hit"])
        if ev.absent:
            ev.missing = [slot.missing]
        if self.off_domain(f):
            ev.coverage = "none"
        elif p >= self.answer_threshold and not ev.absent:
            ev.coverage = "answered"
        return ev
