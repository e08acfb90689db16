"""Resolve a follow-up question against the previous turn of a session.

The previous turn's context holds its effective question, its main unit (the unit the
answer was about), its points in the order shown, the items of its main point, and its
documents. A follow-up is one of:

- strength: "这一条是强制的吗" / "第二条是必须的吗" → the strength and force of that unit;
- nth: "第四项具体说的是什么" / "第二条具体怎么做" / "第二类包括什么" → that item (项/类/小项:
  an item of the main point) or point (条/点) with everything under it; when the answer
  showed no such item, the list in the document: the main unit's own items, or, when the
  main unit is an item itself, the items of the list it belongs to;
- detail: "具体怎么做" / "展开说说" about the previous main unit;
- other-docs: "其他文件有没有类似规定" → the same question over the other documents; "广西那个标准呢？"
  (a document named and nothing else asked) → the same question in that document;
- carry: a role or phase switch that keeps the topic ("那政府要做什么？", "那更新升级期呢");
- anaphora: "它主要负责哪些工作", "这个要打多少分" → the pronoun stands for the previous
  main unit's topic (its heading), and the previous document is preferred;
- new: anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant.corpus.store import Corpus
from assistant.retrieval.query import QueryAnalyzer, normalize
from assistant.textutil import cjk_pairs

CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
EN_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
               "eighth": 8, "ninth": 9, "tenth": 10, "last": -1}
RE_NTH = re.compile(r"第\s*([一二两三四五六七八九十]|\d{1,2})\s*(条|点|小项|项|个|款|类|部分)|最后一(条|项|点|类|部分)")
ITEM_WORDS = ("项", "小项", "款", "类")  # ordinals of a list's items, not of an answer's points
RE_NTH_EN = re.compile(r"\b(" + "|".join(EN_ORDINALS) + r")\s+(item|point|one|clause)\b|\b(item|point)\s+(\d{1,2})\b",
                       re.I)
RE_OTHER_DOCS = re.compile(r"(其他|其它|别的|另外的?|另外一[个份]|另一[个份]?)(文件|标准|文件里|文件中|规定|指南|通知)"
                           r"|还有(哪些|什么|别的)文件"
                           r"|other (documents?|standards?)|any other", re.I)
RE_STRENGTH = re.compile(r"强制|必须|必需|硬性|硬杠杠|硬指标|硬要求|一定要|一定得|非得|非.{0,2}不可|可以不|能不能不"
                         r"|不[\u4e00-\u9fff]{0,3}行不行|可选|应还是宜|是应|是宜|约束力|mandatory|required|compulsory"
                         r"|binding|obligatory|\bmust\b|optional", re.I)
# words a follow-up uses for the provision itself ("这个是硬性规定吗"): no thing of its own
RE_PROVISION = re.compile(r"规定|要求|条款|条文|规范|事项|做法")
RE_THIS = re.compile(r"这一?(条|项|款|点|个|些|规定|要求)|该(条|项|款|规定)|上面|上述|刚才|前面|它|其|\bthis\b|\bit\b|\bthat\b",
                     re.I)
RE_PRONOUN = re.compile(r"它们|它|这个|这些|这项|这条|这块|这一块|该项|那个|\bit\b|\bthis\b|\bthey\b|\bthem\b", re.I)
RE_DETAIL = re.compile(r"具体(怎么|如何|说|讲|是|有|包括|内容|要求)|展开|详细|细说|怎么做|怎么落实|in detail|more detail|specifically",
                       re.I)
RE_THIS_CONTEXT = re.compile(r"(这个|这一|该|此|那个|同一|同样的?)(阶段|时期|时候|环节|方面|期间)")
RE_CARRY_START = ("那", "如果", "若是", "换成", "and ", "what about", "how about")
RE_SIMILAR = re.compile(r"类似|相似|同样|相同|一样的|相应的|similar|the same", re.I)


@dataclass
class Resolution:
    kind: str  # new | nth | strength | detail | other-docs | carry | anaphora
    question: str  # the effective question
    unit: tuple[str, str] | None = None  # (doc_id, label) for strength / nth / detail
    exclude_docs: list[str] = field(default_factory=list)
    prefer_docs: list[str] = field(default_factory=list)
    missing_nth: str = ""  # "第九项" asked and the previous answer has no such item: what to say


def _nth(q: str) -> tuple[int, str] | None:
    m = RE_NTH.search(q)
    if m:
        if m.group(3):
            return -1, m.group(3)
        v = m.group(1)
        return (int(v) if v.isdigit() else CN_DIGITS[v]), m.group(2)
    m = RE_NTH_EN.search(q)
    if m:
        if m.group(1):
            return EN_ORDINALS[m.group(1).lower()], "项" if m.group(2).lower() == "item" else "条"
        return int(m.group(4)), "项" if m.group(3).lower() == "item" else "条"
    return None


def _pick(seq: list, n: int):
    if not seq:
        return None
    if n == -1:
        return seq[-1]
    return seq[n - 1] if 1 <= n <= len(seq) else None


def topic_of(corpus: Corpus, unit: tuple[str, str] | None) -> str:
    """The topic a pronoun stands for: the unit's own title, else its nearest titled
    ancestor's (6.1.1.2 → 6.1.1 管理运营机构)."""
    if not unit:
        return ""
    doc = corpus.documents.get(unit[0])
    u = doc.by_label.get(unit[1]) if doc else None
    while u is not None:
        if u.title and u.kind not in ("cover",):
            return u.title
        u = doc.by_label.get(u.parent) if u.parent else None
    return ""


def section_of(corpus: Corpus, unit: tuple[str, str] | None) -> tuple[str, set[str]]:
    """The section a unit sits in, as (doc_id, every unit of it): the parent of the clause
    the unit is or belongs to (6.4.4 b) → 6.4; 三、（一） → 三、). ("", set()) when unknown."""
    doc = corpus.documents.get(unit[0]) if unit else None
    u = doc.by_label.get(unit[1]) if doc else None
    if u is None:
        return "", set()
    while u.kind == "item" and u.parent in doc.by_label:
        u = doc.by_label[u.parent]
    section = doc.by_label.get(u.parent) if u.parent else None
    section = section or u
    return doc.doc_id, {f"{doc.doc_id}:{x.label}" for x in (section, *doc.descendants(section))}


def resolve(question: str, prev: dict | None, analyzer: QueryAnalyzer, corpus: Corpus | None = None,
            nouns: Callable[[str], set[str]] | None = None) -> Resolution:
    """prev: the previous turn's context (see ChatService); nouns: the words of a text that
    name things (the tokenizer's POS tags), to tell a follow-up with a topic of its own."""
    q = normalize(question)
    if not prev:
        return Resolution("new", q)
    main = tuple(prev["main"]) if prev.get("main") else None
    points = [tuple(x) for x in prev.get("points") or []]
    items = [tuple(x) for x in prev.get("items") or []]
    docs = list(prev.get("doc_ids") or [])
    short = len(q) <= 24
    nth = _nth(q)

    def nth_unit() -> tuple[str, str] | None:
        n, kind = nth
        if kind in ITEM_WORDS + ("部分",) and items:
            return _pick(items, n) or _pick(points, n) or _pick(listed(), n)
        if kind in ITEM_WORDS:
            return _pick(listed(), n) or _pick(points, n)
        return _pick(points, n) or _pick(items, n) or _pick(listed(siblings=kind != "部分"), n)

    def listed(siblings: bool = False) -> list[tuple[str, str]]:
        """The list in the document the main unit heads or belongs to (with `siblings`, for a
        clause without items, the clauses numbered beside it)."""
        if corpus is None or not main or main[0] not in corpus.documents:
            return []
        doc = corpus.documents[main[0]]
        unit = doc.by_label.get(main[1])
        if unit is None:
            return []
        own = [c for c in doc.children(unit) if c.kind == "item"]
        if not own and unit.parent in doc.by_label and (unit.kind == "item" or siblings):
            # an item: the list it belongs to; a clause or heading without items: the clauses
            # numbered beside it (附件1 一、…九、 for "第六个方面")
            own = [c for c in doc.children(doc.by_label[unit.parent]) if c.kind == unit.kind]
        return [(c.doc_id, c.label) for c in own]

    if RE_STRENGTH.search(q) and (RE_THIS.search(q) or nth or short) and (main or points):
        unit = nth_unit() if nth else main or points[0]
        own = _own_words(q)
        if own and not nth and corpus is not None:
            # "那里面配品牌发言人那条呢，也是必须的吗？": the unit it describes, among those the
            # previous answer showed and the list its main unit is in; a thing of its own that
            # none of them names makes it a question of its own ("試點完成以後還能申報什麼？必須申報嗎？")
            described, shared = _described(own, [main, *points, *items, *listed()], main, corpus)
            if described is not None:
                unit = described
            elif not shared and nouns is not None and _names_thing(own, nouns):
                return Resolution("new", q)
        if unit:
            return Resolution("strength", prev["question"], unit=unit)
    if nth and (points or items) and short:
        unit = nth_unit()
        own = _own_words(RE_DETAIL.sub(" ", RE_NTH.sub(" ", q)))
        if own and corpus is not None and nth[1] != "部分":
            # "第二点讲的打击侵权假冒，具体要做到什么？": the unit it describes, when the
            # ordinal counts differently from the user (6.3.3 lists its points in one text)
            said = _best_described(own, [main, *points, *items, *listed()], corpus)
            if said is not None and unit not in said:
                unit = said[0]
        if unit:
            return Resolution("nth", prev["question"], unit=unit)
        n, kind = nth
        if kind == "部分":
            # "第二部分里要怎么交代": the documents name their own parts so (附件1 第二部分);
            # the previous answer has no such point, so it is a question of its own
            return Resolution("new", q)
        have = len(items) if kind in ITEM_WORDS and items else len(points)
        word = "项" if kind in ITEM_WORDS and items else "条"
        return Resolution("nth", prev["question"],
                          missing_nth=f"上一轮答复只有 {have} {word}，没有第 {n} {word}。")
    qa = analyzer.analyze(q)
    named = [d for d in qa.doc_hint if d not in docs]
    if RE_OTHER_DOCS.search(q) or (named and (RE_SIMILAR.search(q) or (main and not _asks_more(q, qa.doc_names)))):
        # "其他文件有没有类似规定" / "广西标准有没有类似的规定？" / "广西那个标准呢？" (a document named
        # and nothing else asked): the previous topic (without the name of the document it was
        # asked of) in the documents named, else in the others
        exclude = [d for d in analyzer_docs(analyzer) if d not in named] if named else docs
        return Resolution("other-docs", _topic_question(prev, main, analyzer, corpus), exclude_docs=exclude)
    if RE_DETAIL.search(q) and short and main and (RE_PRONOUN.search(q) or (len(q) <= 10 and not (
            nouns is not None and _names_thing(RE_DETAIL.sub(" ", q), nouns)))):
        # "具体怎么做？" is about the previous unit; "红烧肉怎么做才不腻？" names a thing of its own
        return Resolution("detail", prev["question"], unit=main)
    # "那…", "…呢" (also mid-question: "到了成长扩张期呢，品质这块要做啥？")
    starts = q.lower().startswith(RE_CARRY_START) or bool(re.search(r"呢([，,？?。！!]|$)", q))
    if short and starts and (qa.phases or qa.roles):
        if nouns is not None and _own_topic(q, analyzer, nouns):
            # "到了成长扩张期呢，品质这块要做啥？": the phase switches and the topic is its own
            # (品质), not the previous one: the follow-up as asked, with the context it did not switch
            if qa.phases and not qa.roles:
                keep = prev.get("roles") or []
            elif qa.roles and not qa.phases:
                keep = prev.get("phases") or []
            else:
                keep = []
            return Resolution("carry", _with_context(q, [x for x in keep if x not in q]), prefer_docs=docs)
        base = prev["question"]
        base = _swap(base, analyzer.phase_m.find(base), "、".join(qa.phases)) if qa.phases else base
        base = _swap(base, analyzer.role_m.find(base), "、".join(qa.roles)) if qa.roles else base
        return Resolution("carry", base, prefer_docs=docs)
    if short and starts:
        # "那服务质量这块呢？": a new topic in the same context (the roles and phases asked before)
        topic = re.sub(r"^(那么?|如果|若是|换成|and |what about |how about )|(这块|这一块|方面|这方面)?(呢|呢？|呢\?)$", "",
                       q, flags=re.I).strip(" ，,？?")
        context = [x for x in (prev.get("roles") or []) + (prev.get("phases") or []) if x not in topic]
        if topic and RE_PRONOUN.search(topic) and corpus is not None and topic_of(corpus, main):
            # "那它要提供哪些服务？": the pronoun stands for the previous main unit's topic
            return Resolution("anaphora", RE_PRONOUN.sub(topic_of(corpus, main), topic, count=1), prefer_docs=docs)
        if topic:
            return Resolution("carry", _with_context(topic, context), prefer_docs=docs)
    if RE_PRONOUN.search(q) and short:
        topic = topic_of(corpus, main) if corpus is not None else ""
        if topic:
            effective = RE_PRONOUN.sub(topic, q, count=1)
            return Resolution("anaphora", effective, prefer_docs=docs)
    return Resolution("new", q)


def _own_words(q: str) -> str:
    """A follow-up without its asking words, pronouns and words for the provision itself:
    what it says of its own."""
    rest = RE_PROVISION.sub(" ", RE_PRONOUN.sub(" ", RE_THIS.sub(" ", RE_STRENGTH.sub(" ", q))))
    return re.sub(r"[^\u4e00-\u9fff]+", " ", rest).strip()


def _bigrams(text: str, corpus: Corpus | None = None) -> set[str]:
    """The text's pairs of Chinese characters; with a corpus, only those that can tell its
    units apart (not 品牌, 区域, 服务: in more than COMMON_PAIR of the units, and more than
    COMMON_MIN of them, so that in a corpus of a few units every pair still counts)."""
    pairs = {p for p in cjk_pairs(text) if not _PARTICLES.intersection(p)}
    if corpus is not None:
        counts, n = corpus.pair_counts()
        pairs = {p for p in pairs if counts.get(p, 0) <= max(COMMON_PAIR * n, COMMON_MIN)}
    return pairs


_CJK2 = re.compile(r"[\u4e00-\u9fff]{2}")
_PARTICLES = set("的了吗呢吧啊么嘛是也都还就")  # a pair across one of these is grammar, not a thing ("报的", "的吗")
DESCRIBED_MIN = 2  # character pairs a unit must share with a follow-up's own words to be the one it describes
COMMON_PAIR = 0.05  # a pair in more than this share of the units identifies none of them…
COMMON_MIN = 5  # …when that is more than this many units
_EN_WORD = re.compile(r"[a-z]+")
# the words of "那广西标准里是怎么说的呢？": a switch of document, no topic of its own
RE_SWITCH_WORDS = re.compile(r"^(那么?|那在|换成|回到)|里面|里头|当中|(是)?怎么(说|讲|规定|要求)的?|有(什么|啥|没有)(说法|规定|要求)"
                             r"|说了?(什么|啥)|又|呢|吗|呀|的|里|中|上|对此")
SWITCH_REST = 2  # Chinese characters a document switch may leave unexplained
_EN_ASKING = {"say", "says", "said", "about"}  # "what does the Guangxi standard say (about it)?"


def _unit_text(corpus: Corpus, cand) -> str | None:
    doc = corpus.documents.get(cand[0])
    unit = doc.by_label.get(cand[1]) if doc else None
    return f"{unit.title or ''}{unit.text}" if unit is not None else None


def _shared_pairs(own: str, candidates: list, corpus: Corpus) -> list[tuple[tuple[str, str], int]]:
    """(candidate unit, how many of the words' telling character pairs its text has), in the
    candidates' order, each once; candidates that are not units are left out."""
    pairs = _bigrams(own, corpus)
    out = []
    for cand in dict.fromkeys(c for c in candidates if c):
        text = _unit_text(corpus, cand)
        if text is not None:
            out.append((cand, sum(p in text for p in pairs)))
    return out


def _best_described(own: str, candidates: list, corpus: Corpus) -> tuple[tuple[str, str], int] | None:
    """(the candidate sharing the most telling character pairs with the words, their count),
    or None when none shares DESCRIBED_MIN."""
    best = None
    for cand, n in _shared_pairs(own, candidates, corpus):
        if n >= DESCRIBED_MIN and (best is None or n > best[1]):
            best = (cand, n)
    return best


def _asks_more(q: str, names: list[str]) -> bool:
    """Besides the documents it names, the follow-up says something: more than a couple of
    Chinese characters beyond the words of a document switch, or English words beyond
    function words ("广西那个标准呢" and "国标草案里怎么说" ask nothing more; "广西标准的指标体系…"
    and "红盾指南里的指导站要配多少人" do)."""
    rest = q.lower()
    for n in names:
        rest = rest.replace(n, " ")
    rest = RE_SWITCH_WORDS.sub(" ", rest)
    if len(re.findall(r"[\u4e00-\u9fff]", rest)) > SWITCH_REST:
        return True
    return any(w not in ENGLISH_STOP_WORDS and w not in _EN_ASKING for w in _EN_WORD.findall(rest))


def _described(own: str, candidates: list, main, corpus: Corpus):
    """(the candidate unit whose text shares the most character pairs with the follow-up's own
    words — at least DESCRIBED_MIN, and more than the main unit — or None when none stands out,
    whether any candidate shares one)."""
    best, best_n, main_n = None, 0, 0
    for cand, n in _shared_pairs(own, candidates, corpus):
        if cand == main:
            main_n = n
        if n > best_n:
            best, best_n = cand, n
    return (best if best_n >= DESCRIBED_MIN and best_n > main_n else None), best_n > 0


def _names_thing(text: str, nouns: Callable[[str], set[str]]) -> bool:
    """The text names a thing: a noun of two Chinese characters or more."""
    return any(_CJK2.search(w) for w in nouns(text))


def _own_topic(q: str, analyzer: QueryAnalyzer, nouns: Callable[[str], set[str]]) -> bool:
    """The follow-up names a thing besides the roles and phases it switches to."""
    rest = RE_THIS_CONTEXT.sub(" ", q)  # "在这个阶段": the phase asked before, not a topic
    for term, _ in analyzer.phase_m.find(q) + analyzer.role_m.find(q):
        rest = rest.replace(term, " ")
    return _names_thing(rest, nouns)


def _with_context(text: str, context: list[str]) -> str:
    """"品质要做啥（行业社会组织）": a question with the roles and phases it keeps from before."""
    return text + ("（" + "、".join(context) + "）" if context else "")


def _topic_question(prev: dict, main: tuple[str, str] | None, analyzer: QueryAnalyzer, corpus: Corpus | None) -> str:
    """The previous question as asked of other documents: without the words that named its
    document ("国标征求意见稿对…": they would pull the other documents' covers and forewords),
    with the heading of the unit the answer was about."""
    base = analyzer.analyze(prev["question"]).text
    topic = topic_of(corpus, main) if corpus is not None else ""
    return f"{base}（{topic}）" if topic and topic not in base else base


def analyzer_docs(analyzer: QueryAnalyzer) -> list[str]:
    """Every document the analyzer knows by name."""
    return sorted({d for _, ds in analyzer._doc_names for d in ds})


def _swap(text: str, found: list[tuple[str, str]], new: str) -> str:
    """Put `new` where the first found term stood (drop the others); append it if none."""
    if not found:
        return f"{text.rstrip('？?。')}（{new}）"
    first = found[0][0]
    text = text.replace(first, "\x00", 1)
    for term, _ in found[1:]:
        text = text.replace(term, "", 1)
    return text.replace("\x00", new)
