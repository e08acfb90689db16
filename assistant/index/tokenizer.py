"""One Chinese tokenizer for indexing and queries alike (jieba + a domain dictionary).

The user dictionary is generated from the corpus: the terms of 术语和定义, clause
titles, the role/phase vocabularies and the thesaurus. Its hash is recorded with
the index so that a changed dictionary triggers a rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from pathlib import Path

import jieba

from assistant.corpus.store import Corpus

_TOKEN_RE = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_NGRAM_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]{2,}")

jieba.setLogLevel(logging.WARNING)


def domain_terms(corpus: Corpus, extra: list[str] = ()) -> list[str]:
    """Terms worth keeping whole: defined terms, short titles, vocabulary words."""
    terms: set[str] = set(extra)
    for u in corpus.units():
        if u.kind == "term" and u.title:
            m = _CJK_RUN.match(u.title)
            if m:
                terms.add(m.group(0))
        if u.title and u.kind in ("chapter", "clause") and 2 <= len(u.title) <= 12:
            if _CJK_RUN.fullmatch(u.title):
                terms.add(u.title)
    for r in corpus.vocab.roles:
        terms.update(r.synonyms)
        terms.update(r.mentions)
    for p in corpus.vocab.phases:
        terms.update(p.synonyms)
    return sorted(t for t in terms if _CJK_RUN.fullmatch(t) and len(t) >= 2)


def _user_dict_content(terms: list[str]) -> str:
    return "".join(f"{t} 2000\n" for t in terms)


def user_dict_hash(terms: list[str]) -> str:
    return hashlib.sha256(_user_dict_content(terms).encode("utf-8")).hexdigest()


def write_user_dict(terms: list[str], path: Path) -> None:
    """Write a jieba user dictionary (one `term freq` per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_user_dict_content(terms), encoding="utf-8")


def load_stopwords(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    return frozenset(
        line.strip() for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


class ChineseTokenizer:
    """jieba search-mode segmentation with a domain dictionary and stopwords."""

    def __init__(self, user_dict: Path | None = None, stopwords: frozenset[str] = frozenset()) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = tempfile.gettempdir()
        if user_dict is not None and user_dict.is_file():
            self._jieba.load_userdict(str(user_dict))
        self.stopwords = stopwords
        self._pos = None

    def tokenize(self, text: str) -> list[str]:
        out = []
        for tok in self._jieba.cut_for_search(text.lower()):
            tok = tok.strip()
            if tok and _TOKEN_RE.search(tok) and tok not in self.stopwords:
                out.append(tok)
        return out

    def _tagged(self, text: str):
        """jieba's (word, POS flag) pairs of this text."""
        if self._pos is None:  # building the POS tag table takes ~0.5 s: once per tokenizer
            import jieba.posseg

            self._pos = jieba.posseg.POSTokenizer(self._jieba)
        return self._pos.cut(text)

    def nouns(self, text: str) -> set[str]:
        """Words jieba tags as nouns (n, nr, ns, nt, nz, vn, eng) in this text."""
        return {w.word.lower() for w in self._tagged(text)
                if w.flag in ("n", "nr", "ns", "nt", "nz", "vn", "eng", "nrt")}

    def pronouns(self, text: str) -> set[str]:
        """Words jieba tags as pronouns (r: 哪几, 啥时候, 什么, 我们, 这个): grammar, never a topic."""
        return {w.word.lower() for w in self._tagged(text) if w.flag.startswith("r")}

    def general_frequency(self, word: str) -> int:
        """How common a word is in general Chinese: its count in jieba's dictionary
        (0 for strings that are not dictionary words, such as segmentation fragments)."""
        self._jieba.check_initialized()
        return int(self._jieba.FREQ.get(word, 0) or 0)

    def char_ngrams(self, text: str) -> list[str]:
        """Character bigrams of every run of Chinese (a single character when the run has
        one) and lower-cased Latin words: a second sparse view that still matches where a
        typo (延申 for 延伸) or a different segmentation breaks a jieba word."""
        out = []
        for m in _NGRAM_RUN.finditer(text.lower()):
            run = m.group(0)
            if run[0].isascii():
                out.append(run)
            elif len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i:i + 2] for i in range(len(run) - 1))
        return out

    def __call__(self, text: str) -> list[str]:
        return self.tokenize(text)
