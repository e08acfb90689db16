"""Answers, citations, sessions, follow-ups and the LLM path on the tiny corpus."""

from __future__ import annotations

import threading

import pytest

from assistant.answer.citations import check_citation, citation_for, quote_in_source
from assistant.answer.models import Citation
from assistant.chat.service import ChatService
from assistant.chat.sessions import SessionStore
from assistant.errors import AssistantError, InvalidQueryError
from assistant.index.store import load_index
from assistant.retrieval.retriever import HybridClauseRetriever


@pytest.fixture
def chat(tiny_lexical):
    corpus, settings, embed = tiny_lexical
    index = load_index(corpus, settings, embed, rebuild="never")
    return ChatService(index, HybridClauseRetriever(index), settings)


def _quotes(answer) -> list[str]:
    return [c.quote for c in answer.citations + answer.related + answer.other_items]


def test_answer_pinpoints_the_item_and_quotes_verbatim(chat):
    answer, sid, turn = chat.ask("行业社会组织举报违法侵权行为")
    assert answer.coverage in ("answered", "partial") and answer.mode == "extractive" and turn == 1
    assert answer.points[0].citation.label == "2.1.1 a)"  # the item that answers, not the whole clause
    # its siblings are collapsed under 同条其他要求, not cited as points
    assert "2.1.1 b)" in [c.label for c in answer.other_items]
    assert "2.1.1 b)" not in [c.label for c in answer.citations]
    corpus = chat.index.corpus
    for c in answer.citations + answer.related + answer.other_items:
        assert check_citation(corpus, c) is None and quote_in_source(corpus, c)
    for c in answer.citations:
        assert c.cite in answer.answer
    # the direct answer quotes the sentence with its citation; no point ends in a dangling lead-in
    assert "应开展市场监测与舆情分析" in answer.direct and "〔T/TINY 1—2026 2.1.1 a)〕" in answer.direct
    assert not any(q.rstrip().endswith("以下内容：") for q in _quotes(answer))
    assert answer.supported == (answer.coverage == "answered")


def test_a_list_question_quotes_the_clause_with_its_items(chat):
    answer, _, _ = chat.ask("行业社会组织有哪些职责")
    main = answer.points[0]
    assert main.citation.label == "2.1.1" and [i.citation.label for i in main.items] == ["2.1.1 a)", "2.1.1 b)"]
    assert "   a) 应开展市场监测" in answer.answer  # items under their lead-in, each cited


def test_validator_rejects_invented_clause_wrong_quote_wrong_code_and_broken_contiguity(chat):
    corpus = chat.index.corpus
    good = Citation("tiny", "T/TINY 1—2026", "微型标准", "3.1", "宜制定国际化战略", "should")
    assert check_citation(corpus, good) is None
    assert "没有条款" in check_citation(corpus, Citation("tiny", "T/TINY 1—2026", "微型标准", "9.9", "宜制定", "should"))
    assert "原文" in check_citation(corpus, Citation("tiny", "T/TINY 1—2026", "微型标准", "3.1", "应制定国际化战略", "shall"))
    assert "编号" in check_citation(corpus, Citation("tiny", "T/TINY 2—2026", "微型标准", "3.1", "宜制定", "should"))
    # 2.1.1 with its items is its own text, but in the source a list marker stands between
    # the lead-in and the item: quoted in one piece it is not contiguous…
    whole = corpus.doc("tiny").full_text(corpus.clause("tiny", "2.1.1"))
    bad = Citation("tiny", "T/TINY 1—2026", "微型标准", "2.1.1", whole, "should")
    assert "不连续" in check_citation(corpus, bad)
    # …split at the marker and joined with …… it is
    fixed = citation_for(corpus, corpus.clause("tiny", "2.1.1"), whole)
    assert "……" in fixed.quote and check_citation(corpus, fixed) is None and quote_in_source(corpus, fixed)


@pytest.mark.parametrize("question, missing", [
    ("制定国际化战略需要多久", "具体期限、周期或频次"),        # a duration the evidence lacks
    ("有多少个行业社会组织制定了行业自律公约", "具体数量"),      # a count
    ("制定国际化战略的预算是多少", "具体金额或收费标准"),        # an amount of money
    ("行业自律公约由哪个部门审批", "由哪个部门或单位负责"),      # who
])
def test_partial_says_first_what_the_documents_do_not_state(chat, question, missing):
    answer, _, _ = chat.ask(question)
    assert answer.coverage == "partial" and not answer.supported
    assert answer.missing == [missing]
    assert answer.answer.startswith(f"现有文件没有写明{missing}。")
    assert answer.citations, "the related provisions are still shown, cited"


def test_none_only_when_nothing_is_relevant(chat):
    answer, _, _ = chat.ask("红烧肉怎么做才能肥而不腻？")
    assert answer.coverage == "none" and not answer.supported and answer.citations == []
    assert answer.answer.startswith("现有文件中没有找到") and answer.nearest_topics


def test_the_none_decision_is_the_fitted_model_at_its_cross_validated_threshold(chat):
    from assistant.answer.evidence import EvidenceJudge, EvidenceModel

    index, retriever = chat.index, chat.retriever
    # p(off-domain) rises as the question's content leaves the documents' vocabulary
    model = EvidenceModel(["domain"], [-4.0], 0.0, [0.5], [0.25], meta={"threshold": 0.8})
    judge = EvidenceJudge(index, retriever, None, offdomain=model)
    assert judge.offdomain_threshold == 0.8
    assert judge.decide(retriever.retrieve_all("红烧肉怎么做才能肥而不腻？")).coverage == "none"
    assert judge.decide(retriever.retrieve_all("行业社会组织举报违法侵权行为")).coverage != "none"
    # the setting overrides the stored threshold: at 1.0 nothing is "none"
    strict = EvidenceJudge(index, retriever, None, offdomain=model, offdomain_threshold=1.0)
    assert strict.decide(retriever.retrieve_all("红烧肉怎么做才能肥而不腻？")).coverage == "partial"


def test_the_decision_claims_answered_only_when_confident_and_the_slot_is_filled(chat):
    from assistant.answer.evidence import EvidenceJudge, EvidenceModel

    index, retriever = chat.index, chat.retriever
    sure = EvidenceModel(["slot"], [-4.0], 2.0, [0.0], [1.0])  # p = 0.88 without a slot, 0.12 with one
    judge = EvidenceJudge(index, retriever, sure, answer_threshold=0.5)
    assert judge.decide(retriever.retrieve_all("行业社会组织举报违法侵权行为")).coverage == "answered"
    unsure = EvidenceJudge(index, retriever, sure, answer_threshold=0.95)
    assert unsure.decide(retriever.retrieve_all("行业社会组织举报违法侵权行为")).coverage == "partial"
    ev = judge.decide(retriever.retrieve_all("制定国际化战略需要多久"))
    assert ev.coverage == "partial" and ev.absent and ev.missing == ["具体期限、周期或频次"]
    # a filler in a topical sentence fills the slot: 2.2 names who keeps the compliance system
    ev = judge.decide(retriever.retrieve_all("诚信合规内部管控体系由谁建立"))
    assert ev.slot.id == "who" and ev.slot_filled and ev.filler[0].label == "2.2"


def test_informative_words_weigh_more_than_everyday_ones(chat):
    judge = chat.composer.judge
    assert judge.weight("抢注") > judge.weight("审计") > judge.weight("有点") > judge.weight("我们") == 0.0
    # a compound jieba lists with a token count (算进去: 3) weighs no more than its likeliest
    # parts (算 + 进去); one with a rare part stays informative (七言绝句 through 绝句)
    assert judge._parts("算进去") == ["算", "进去"] and judge.weight("算进去") == judge.weight("进去")
    assert judge.weight("算进去") < judge.weight("有点") + 0.5 < judge.weight("七言绝句")
    assert judge.covered("出海", "建立品牌海外保护措施") == 1.0  # through the thesaurus (出海 → 海外)
    assert judge.covered("打假", "举报违法侵权行为") == 1.0
    assert judge.covered("海报", "建立品牌海外保护措施") == 0.25  # shares 海: half credit per character


def test_a_demonstrative_with_its_measure_word_is_no_topic(chat):
    """"那块", "几项", "这些" point at a topic; rare in jieba's dictionary, they would weigh as
    informative words the documents never use (slots.toml [forms])."""
    judge = chat.composer.judge
    words = [t for t, _ in judge.content("市场监测那块分几项？这些要求谁来落实", None)]
    assert "市场监测" in words or "监测" in words
    assert not {"那块", "几项", "这些"} & set(words)


def test_is_it_mandatory_answers_with_the_modal_and_the_documents_force(chat):
    answer, _, _ = chat.ask("行业社会组织开展市场监测是强制的吗？")
    assert answer.strength == "shall" and answer.points[0].citation.label == "2.1.1 a)"
    assert answer.direct.startswith("〔T/TINY 1—2026 2.1.1 a)〕用的是「应」")
    assert "团体标准" in answer.force and "自愿采用" in answer.force and answer.force in answer.answer


def test_traditional_characters_and_full_width_forms_are_normalized(chat):
    from assistant.retrieval.query import normalize

    assert normalize("行業社會組織舉報違法侵權行為？") == "行业社会组织举报违法侵权行为？"
    assert normalize("ＡＢＣ１２３，品牌\u200b") == "ABC123，品牌"
    a, _, _ = chat.ask("行業社會組織舉報違法侵權行為")
    b, _, _ = chat.ask("行业社会组织举报违法侵权行为")
    assert [c.label for c in a.citations] == [c.label for c in b.citations]


def test_bad_questions_are_clear_errors(chat):
    with pytest.raises(InvalidQueryError, match="不能为空"):
        chat.ask("   ")
    with pytest.raises(InvalidQueryError, match="过长"):
        chat.ask("品" * (chat.settings.max_query_chars + 1))
    with pytest.raises(InvalidQueryError, match="可选值"):
        chat.ask("品牌", role="不存在")


def test_followups_resolve_against_the_previous_main_unit(chat):
    a1, sid, _ = chat.ask("行业社会组织有哪些职责")
    assert a1.points[0].citation.label == "2.1.1"
    a2, _, t2 = chat.ask("第一项具体说的是什么？", session_id=sid)  # 项: an item of the main point
    assert t2 == 2 and a2.points[0].citation.label == "2.1.1 a)"
    a3, _, _ = chat.ask("这一条是强制的吗", session_id=sid)
    assert a3.strength == "shall" and a3.direct.startswith("〔T/TINY 1—2026 2.1.1 a)〕用的是「应」")
    _, sid4, _ = chat.ask("行业社会组织有哪些职责")
    a4, _, _ = chat.ask("第九项呢", session_id=sid4)
    assert a4.coverage == "none" and a4.answer == "上一轮答复只有 2 项，没有第 9 项。"
    # a pronoun stands for the previous main unit's topic; a role switch keeps the topic
    b1, sid2, _ = chat.ask("国际化战略怎么制定")
    b2, _, _ = chat.ask("它要建立什么保护措施？", session_id=sid2)
    assert "国际化" in b2.effective_question and b2.points[0].citation.label == "3.1"
    c1, sid3, _ = chat.ask("行业社会组织要做什么")
    c2, _, _ = chat.ask("那品牌授权企业呢？", session_id=sid3)
    assert "品牌授权企业" in c2.effective_question and "2.2" in [c.label for c in c2.citations]


def test_resolver_kinds():
    from assistant.chat.followup import resolve
    from assistant.corpus.vocab import load_vocab
    from assistant.retrieval.query import QueryAnalyzer
    from tests.conftest import CORPUS

    an = QueryAnalyzer(load_vocab(CORPUS / "vocab"))
    prev = {"question": "行业社会组织在成长扩张期要做什么", "main": ["d", "6.1"], "points": [["d", "6.1"], ["d", "7.2"]],
            "items": [["d", "6.1 a)"], ["d", "6.1 b)"]], "doc_ids": ["d"]}
    assert resolve("第二项具体说的是什么？", prev, an).unit == ("d", "6.1 b)")
    assert resolve("第二条具体怎么做？", prev, an).unit == ("d", "7.2")
    assert resolve("最后一项呢", prev, an).unit == ("d", "6.1 b)")
    assert resolve("这一条是强制的吗？", prev, an).kind == "strength"
    assert resolve("Is this mandatory?", prev, an).kind == "strength"
    assert resolve("其他文件有没有类似规定？", prev, an).exclude_docs == ["d"]
    r = resolve("那更新升级期呢？", prev, an)
    assert r.kind == "carry" and r.question == "行业社会组织在更新升级期要做什么"
    assert resolve("具体怎么做？", prev, an).kind == "detail"
    assert resolve("申报试点要什么条件？", prev, an).kind == "new"
    # an ordinal the previous answer does not have: said so for 项/条…
    assert "没有第 9 项" in resolve("第九项呢", prev, an).missing_nth
    # …but "第二部分" is how the documents name their own parts (附件1 第二部分): a question of its own
    r = resolve("如果勾了延期，第三部分里要怎么交代？", prev, an)
    assert r.kind == "new" and not r.missing_nth


def test_an_ordinal_the_answer_did_not_show_is_taken_from_the_document_list(tiny):
    """"第二项" after an answer whose main point is an item: the list that item belongs to;
    after a clause shown without its items: the clause's own items; 类/小项 count like 项."""
    from assistant.chat.followup import resolve
    from assistant.retrieval.query import QueryAnalyzer

    corpus, _, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    item_main = {"question": "行业社会组织做什么", "main": ["tiny", "2.1.1 a)"],
                 "points": [["tiny", "2.1.1 a)"], ["tiny", "3.1"]], "items": [], "doc_ids": ["tiny"]}
    assert resolve("第二项说的是啥？", item_main, an, corpus).unit == ("tiny", "2.1.1 b)")
    clause_main = dict(item_main, main=["tiny", "2.1.1"], points=[["tiny", "2.1.1"]])
    assert resolve("第一类包括什么？", clause_main, an, corpus).unit == ("tiny", "2.1.1 a)")
    assert resolve("其中第二小项是说啥？", clause_main, an, corpus).unit == ("tiny", "2.1.1 b)")
    # the document's list has no such item either: said so, as before
    assert "没有第 5" in resolve("第五项呢", clause_main, an, corpus).missing_nth
    # 条 still counts the answer's points
    assert resolve("第二条呢", item_main, an, corpus).unit == ("tiny", "3.1")


def test_a_phase_switch_with_a_topic_of_its_own_keeps_that_topic(tiny):
    """"那更新升级期呢" keeps the previous topic; "到了成长扩张期呢，品质这块要做啥" brings its
    own (品质) and keeps only the context it did not switch (the role)."""
    from assistant.chat.followup import resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    corpus, settings, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    nouns = ChineseTokenizer(settings.index_dir / "userdict.txt").nouns
    prev = {"question": "行业社会组织在初创构建期要建哪些平台", "main": ["tiny", "2.1.1"], "points": [["tiny", "2.1.1"]],
            "items": [], "doc_ids": ["tiny"], "roles": ["行业社会组织"], "phases": ["初创构建期"]}
    plain = resolve("那更新升级期呢？", prev, an, corpus, nouns)
    assert plain.kind == "carry" and plain.question == "行业社会组织在更新升级期要建哪些平台"
    own = resolve("到了成长扩张期呢，品质这块要做啥？", prev, an, corpus, nouns)
    assert own.kind == "carry" and own.question == "到了成长扩张期呢，品质这块要做啥？（行业社会组织）"
    # "在这个阶段" points back at the phase: no topic of its own
    assert resolve("那政府在这个阶段呢？", prev, an, corpus, nouns).question.startswith("产业主管部门在初创构建期")


def test_sessions_survive_a_restart_and_keep_a_question_whose_answer_failed(chat, tiny_lexical, monkeypatch):
    _, settings, _ = tiny_lexical
    a1, sid, _ = chat.ask("国际化战略怎么制定")
    monkeypatch.setattr(chat.composer, "answer", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        chat.ask("这句问题不能丢", session_id=sid)
    reopened = SessionStore(settings.sessions_db)  # a new process would open the same file
    turns = reopened.turns(sid)
    assert [t.question for t in turns] == ["国际化战略怎么制定", "这句问题不能丢"]
    assert turns[0].status == "answered" and turns[0].answer["citations"]
    assert turns[1].status == "failed"


def test_concurrent_turns_get_unique_numbers_and_none_is_lost(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session()
    errors = []

    def worker(k):
        try:
            for i in range(10):
                store.start_turn(sid, f"问题{k}-{i}", {})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    turns = store.turns(sid)
    assert sorted(t.turn for t in turns) == list(range(1, 41))
    assert len({t.question for t in turns}) == 40


def test_two_stores_on_one_file_see_each_others_writes_at_once(tmp_path):
    """Two API workers hold long-lived connections to one file: a turn one of them
    stores is visible to the other on its next read, and turn numbers never collide."""
    a, b = SessionStore(tmp_path / "s.sqlite3"), SessionStore(tmp_path / "s.sqlite3")
    sid = a.new_session()
    assert b.exists(sid) and b.turns(sid) == []
    assert a.start_turn(sid, "第一问", {}) == 1
    assert [t.question for t in b.turns(sid)] == ["第一问"]
    assert b.start_turn(sid, "第二问", {}) == 2
    b.finish_turn(sid, 2, {"answer": "好"}, {})
    assert [(t.turn, t.status) for t in a.turns(sid)] == [(1, "pending"), (2, "answered")]


def _llm_chat(tiny, stub, timeout=5.0):
    corpus, settings, embed = tiny
    settings = settings.model_copy(update={"llm_base_url": stub.url, "llm_model": "stub-qwen", "llm_timeout": timeout})
    index = load_index(corpus, settings, embed, rebuild="never")
    return ChatService(index, HybridClauseRetriever(index, mode="bm25"), settings)


def test_llm_phrasing_keeps_only_sentences_with_valid_citations(tiny, stub_llm):
    chat = _llm_chat(tiny, stub_llm)
    stub_llm.reply = ("行业社会组织应开展市场监测与舆情分析并举报违法侵权行为〔T/TINY 1—2026 2.1.1 a)〕。"
                      "另外必须每年缴纳会费五万元〔T/TINY 1—2026 9.9〕。"
                      "这一句没有任何引用。")
    answer, _, _ = chat.ask("行业社会组织举报违法侵权行为")
    assert answer.mode == "llm" and answer.supported
    assert "五万元" not in answer.answer and "没有任何引用" not in answer.answer
    assert [c.label for c in answer.citations] == ["2.1.1 a)"]
    assert all(check_citation(chat.index.corpus, c) is None for c in answer.citations)
    assert len(answer.notes) == 2 and any("9.9" in n for n in answer.notes)
    sent = stub_llm.requests[0]
    assert sent["model"] == "stub-qwen" and "2.1.1 a)" in sent["messages"][0]["content"]


def test_llm_inventing_only_clauses_falls_back_to_extractive(tiny, stub_llm):
    chat = _llm_chat(tiny, stub_llm)
    stub_llm.reply = "应当设立品牌基金〔T/TINY 1—2026 7.7〕。"
    answer, _, _ = chat.ask("行业社会组织举报违法侵权行为")
    assert answer.mode == "llm-fallback" and "7.7" not in answer.answer
    assert all(check_citation(chat.index.corpus, c) is None for c in answer.citations)


@pytest.mark.parametrize("status,delay", [(500, 0.0), (200, 3.0)])
def test_llm_error_or_timeout_falls_back(tiny, stub_llm, status, delay):
    chat = _llm_chat(tiny, stub_llm, timeout=1.0)
    stub_llm.status, stub_llm.delay = status, delay
    stub_llm.reply = "不会用到〔T/TINY 1—2026 3.1〕。"
    answer, _, _ = chat.ask("国际化战略")
    assert answer.mode == "llm-fallback" and answer.supported
    assert any("大模型" in n for n in answer.notes)


def test_unconfigured_llm_means_no_network(chat):
    assert chat.phraser is None


def test_cli_ask_batch_one_answer_per_line(tiny, tmp_path, monkeypatch, capsys):
    import json

    import assistant.cli as cli

    corpus, settings, embed = tiny
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("assistant.service.make_embedding", lambda s: embed)
    q = tmp_path / "q.jsonl"
    q.write_text('{"id": "a", "query": "国际化战略"}\n{"id": "b", "query": "  "}\n[1, 2]\n', encoding="utf-8")
    assert cli.main(["ask", "--queries", str(q), "--json"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0]["id"] == "a" and out[0]["supported"] and out[0]["citations"][0]["clause"] == "3.1"
    assert "不能为空" in out[1]["error"] and "不是合法" in out[2]["error"]


def test_eval_reads_the_external_sample_format_and_reports_the_issue_metrics(chat, tmp_path):
    """`brand-assistant eval --gold DIR` on a set in the external sample's format: questions
    (q, gold, tags, expect_strength, gold_mode), unanswerable (why, kind) and dialogues."""
    import json

    from assistant.evaluation import load_eval_set, run_answer_eval

    d = tmp_path / "set"
    d.mkdir()
    (d / "questions.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "a1", "q": "行业社会组织举报违法侵权行为", "gold": [["tiny", "2.1.1"]], "tags": ["type:howto", "voice:plain"]},
        {"id": "a2", "q": "行业社会组织开展市场监测是强制的吗？", "gold": [["tiny", "2.1.1 a)"]],
         "tags": ["type:mandatory", "voice:colloquial"], "expect_strength": "shall"},
    ]), encoding="utf-8")
    (d / "unanswerable.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "n1", "q": "制定国际化战略需要多久", "why": "3.1 没有期限", "kind": "near_domain"},
        {"id": "n2", "q": "红烧肉怎么做才能肥而不腻？", "why": "无关", "kind": "off_domain"},
    ]), encoding="utf-8")
    (d / "dialogues.jsonl").write_text(json.dumps({"id": "d1", "turns": [
        {"q": "行业社会组织有哪些职责", "gold": [["tiny", "2.1.1"]]},
        {"q": "第一项具体说的是什么？", "gold": [["tiny", "2.1.1 a)"]]},
        {"q": "这一条是强制的吗", "gold": [["tiny", "2.1.1 a)"]], "expect_strength": "shall"},
        {"q": "红烧肉怎么做才能肥而不腻？", "gold": [], "kind": "off_domain", "why": "无关"}]},
        ensure_ascii=False), encoding="utf-8")
    evalset = load_eval_set(d, chat.index.corpus)
    assert len(evalset.answerable) == 2 and len(evalset.unanswerable) == 2 and len(evalset.dialogues) == 1
    m = run_answer_eval(chat, evalset)
    assert m["answer_hit"] == 1.0 and m["none_on_answerable"] == 0.0
    assert m["near_domain_answered"] == 0.0 and m["off_domain_none"] == 1.0  # partial and none
    assert m["strength_n"] == "1/1" and m["dialogue_turns_n"] == "4/4"  # the last turn: nothing claimed
    assert m["verbatim"] == 1.0 and m["recall@5"] == 1.0
    assert set(m["by_voice"]) == {"plain", "colloquial", "-"} and "mandatory" in m["by_type"]
    # a gold label that is not a unit is an error, or a warning with --lenient
    (d / "questions.jsonl").write_text(json.dumps({"id": "x", "q": "问", "gold": [["tiny", "9.9"]]}), encoding="utf-8")
    with pytest.raises(AssistantError, match="9.9"):
        load_eval_set(d, chat.index.corpus)
    assert load_eval_set(d, chat.index.corpus, strict=False).unresolved == ["x: tiny 9.9"]


def test_a_none_model_fitted_with_another_embedding_is_not_used(chat):
    """Its strongest signal is a dense similarity on the model's own scale: with another
    embedding (BA_EMBED_BACKEND=use on an e5 fit) the judge falls back to the rule."""
    from assistant.answer.compose import AnswerComposer
    from assistant.answer.evidence import EvidenceModel
    from assistant.index.embeddings import embedding_id

    index, retriever = chat.index, chat.retriever
    path = index.corpus.root / "vocab" / "offdomain_model.json"
    try:
        for fitted_with, used in (("E5Embedding:another-model", False), (embedding_id(index.embed_model), True)):
            EvidenceModel(["domain"], [-4.0], 0.0, [0.5], [0.25],
                          meta={"threshold": 0.8, "embedding": fitted_with}).save(path)
            assert (AnswerComposer(index, retriever, chat.settings).judge.offdomain is not None) is used
    finally:
        path.unlink(missing_ok=True)


def test_a_strength_followup_that_describes_an_item_is_about_that_item(tiny):
    """"组织推介活动那一项呢，也是必须的吗？" after an answer about 2.1.1: the item it describes
    (2.1.1 b), not the main unit; one that names nothing of the answer's is a question of its
    own; one that only points back stays with the main unit."""
    from assistant.chat.followup import resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    corpus, settings, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    nouns = ChineseTokenizer(settings.index_dir / "userdict.txt").nouns
    prev = {"question": "行业社会组织有哪些职责", "main": ["tiny", "2.1.1"], "points": [["tiny", "2.1.1"]],
            "items": [["tiny", "2.1.1 a)"], ["tiny", "2.1.1 b)"]], "doc_ids": ["tiny"]}
    r = resolve("组织推介活动那一项呢，也是必须的吗？", prev, an, corpus, nouns)
    assert r.kind == "strength" and r.unit == ("tiny", "2.1.1 b)")
    r = resolve("这一条是必需的吗？", prev, an, corpus, nouns)  # 必需 asks as 必须 does
    assert r.kind == "strength" and r.unit == ("tiny", "2.1.1")
    r = resolve("那营业执照年检呢，这个是必须的吗？", prev, an, corpus, nouns)
    assert r.kind == "new"


def test_a_short_howto_naming_a_thing_of_its_own_is_not_a_detail_followup(tiny):
    from assistant.chat.followup import resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    corpus, settings, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    nouns = ChineseTokenizer(settings.index_dir / "userdict.txt").nouns
    prev = {"question": "国际化战略怎么制定", "main": ["tiny", "3.1"], "points": [["tiny", "3.1"]], "items": [],
            "doc_ids": ["tiny"]}
    assert resolve("具体怎么做？", prev, an, corpus, nouns).kind == "detail"
    assert resolve("红烧肉怎么做才不腻？", prev, an, corpus, nouns).kind == "new"
    # "那它…": a switch whose pronoun stands for the previous main unit's topic
    r = resolve("那它要提供哪些服务？", prev, an, corpus, nouns)
    assert r.kind == "anaphora" and r.question == "国际化要提供哪些服务"


def test_the_section_a_followup_is_read_in(tiny):
    """An item's section is its clause's parent: 2.1.1 a) → 2.1 with everything under it."""
    from assistant.chat.followup import section_of

    corpus, _, _ = tiny
    doc_id, units = section_of(corpus, ("tiny", "2.1.1 a)"))
    assert doc_id == "tiny" and units == {"tiny:2.1", "tiny:2.1.1", "tiny:2.1.1 a)", "tiny:2.1.1 b)"}
    assert section_of(corpus, ("tiny", "9.9")) == ("", set())


def test_a_conversation_context_lifts_its_section_unless_the_question_names_a_document(tiny_lexical):
    from assistant.index.store import load_index
    from assistant.retrieval.retriever import Context, HybridClauseRetriever

    corpus, settings, embed = tiny_lexical
    r = HybridClauseRetriever(load_index(corpus, settings, embed, rebuild="never"))
    question = "品牌要建立什么"
    plain = dict(r.scored(question)[0])
    ctx = Context(docs={"tiny"}, units={"tiny:3", "tiny:3.1"})
    lifted = dict(r.scored(question, context=ctx)[0])
    pos = r.index.node_pos["tiny:3.1"]
    other = r.index.node_pos["tiny:2.2"]
    # the document's units gain context_share of a named document's boost, the section's twice that
    assert lifted[pos] > plain[pos] and lifted[other] > plain[other]
    assert lifted[pos] / plain[pos] > lifted[other] / plain[other]
    # a question naming its document is steered by that name alone
    named = "T/TINY 1—2026 品牌要建立什么"
    assert dict(r.scored(named, context=ctx)[0]) == dict(r.scored(named)[0])


def test_an_elliptical_followup_names_nothing_the_documents_lack(chat):
    """Only such a follow-up is asked again with the previous topic when it finds nothing
    on its own words: weather, recipes and Latin-letter names are topics of their own."""
    assert chat.elliptical("哪些事不能算进去？")
    assert chat.elliptical("有没有例外的情况？")
    assert not chat.elliptical("明天南宁会下雨吗？")
    assert not chat.elliptical("红烧肉怎么做才不腻？")
    assert not chat.elliptical("Python 里列表怎么去重？")
    assert not chat.elliptical("Are there any exceptions?")  # English: no word frequencies to tell


def test_a_none_followup_with_nothing_of_its_own_is_read_with_the_previous_topic(chat, monkeypatch):
    """It is asked again with the previous main unit's topic; what it finds then is the
    answer. A question with a topic of its own keeps its "none"."""
    a1, sid, _ = chat.ask("国际化战略怎么制定")
    assert a1.points[0].citation.label == "3.1"
    asked = []
    real = chat.composer.answer

    def spy(question, *a, **k):
        asked.append(question)
        out = real(question, *a, **k)
        if len(asked) == 1:  # the follow-up on its own words: nothing, as a none decision says
            out = chat.composer._none(question, chat.retriever.retrieve_all(question), _Ev())
        return out

    monkeypatch.setattr(chat.composer, "answer", spy)
    a2, _, _ = chat.ask("有没有例外的情况？", session_id=sid)
    assert asked == ["有没有例外的情况？", "有没有例外的情况（国际化）"]
    assert a2.coverage != "none" and a2.effective_question == "有没有例外的情况（国际化）"
    assert a2.points[0].citation.label == "3.1"
    asked.clear()
    a3, _, _ = chat.ask("红烧肉有没有例外？", session_id=sid)
    assert asked == ["红烧肉有没有例外？"] and a3.coverage == "none"


class _Ev:
    confidence = 0.0


def test_is_it_mandatory_is_answered_by_a_close_provision_that_says_shall_should_or_may(tiny_lexical):
    """A statement ranked first (1 范围: no modal) gives way to a normative unit scoring at least
    MANDATORY_SHARE of it; one scoring less leaves the statement the unit asked about."""
    from assistant.answer.evidence import Evidence
    from assistant.answer.select import MANDATORY_SHARE
    from assistant.index.store import load_index
    from assistant.retrieval.retriever import HybridClauseRetriever, Retrieval

    corpus, settings, embed = tiny_lexical
    index = load_index(corpus, settings, embed, rebuild="never")
    chat = ChatService(index, HybridClauseRetriever(index), settings)
    retriever = chat.retriever
    question = "国际化战略是必须的吗？"
    qa = retriever.analyzer.analyze(question)
    slot = corpus.vocab.asked_slot(qa.text)
    assert slot is not None and slot.id == "mandatory"
    words = chat.composer.judge.content(qa.text, slot, qa.doc_names)

    def main_for(share: float) -> str:
        ranked = [(index.node_pos["tiny:1"], 1.0), (index.node_pos["tiny:3.1"], share)]
        r = Retrieval(qa=qa, ranked=ranked, hits=retriever._group(ranked, 10))
        return chat.composer.selector.select(r, Evidence("answered", 0.9, slot=slot), words).main.label

    assert main_for(MANDATORY_SHARE + 0.05) == "3.1"
    assert main_for(MANDATORY_SHARE - 0.1) == "1"


def test_english_function_words_carry_no_topic(chat):
    judge = chat.composer.judge
    assert judge.weight("which") == judge.weight("the") == 0.0
    assert judge.weight("indicators") == 1.0


def test_an_ordinal_counts_the_clauses_beside_the_main_one_and_yields_to_a_description(tiny):
    """"第二个方面说的是什么" after an answer about 2.1 alone: the clauses numbered beside it
    (2.1, 2.2), not "上一轮答复只有 1 条"; "第一点讲的推介活动…" names what it means, and the
    unit it describes wins over the count; "第二部分" stays the documents' own name of a part."""
    from assistant.chat.followup import resolve
    from assistant.retrieval.query import QueryAnalyzer

    corpus, _, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    lone = {"question": "行业社会组织要做什么", "main": ["tiny", "2.1"], "points": [["tiny", "2.1"]], "items": [],
            "doc_ids": ["tiny"]}
    r = resolve("第二个方面说的是什么？", lone, an, corpus)
    assert r.kind == "nth" and r.unit == ("tiny", "2.2") and not r.missing_nth
    clause = dict(lone, main=["tiny", "2.1.1"], points=[["tiny", "2.1.1"]])
    assert resolve("第二点具体说的是什么？", clause, an, corpus).unit == ("tiny", "2.1.1 b)")  # the clause's list
    assert resolve("第一点讲的推介活动，具体要做什么？", clause, an, corpus).unit == ("tiny", "2.1.1 b)")
    assert resolve("如果勾了延期，第二部分里要怎么交代？", lone, an, corpus).kind == "new"


def test_a_strength_followup_in_other_words_is_about_the_previous_unit(tiny):
    """"这个是硬性规定吗？": 规定 names the provision asked about, not a topic of its own;
    硬杠杠 and 非得 ask the strength as 必须 does."""
    from assistant.chat.followup import resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    corpus, settings, _ = tiny
    an = QueryAnalyzer(corpus.vocab)
    nouns = ChineseTokenizer(settings.index_dir / "userdict.txt").nouns
    prev = {"question": "品牌授权企业要做什么", "main": ["tiny", "2.2"], "points": [["tiny", "2.2"]], "items": [],
            "doc_ids": ["tiny"]}
    for q in ("这个是硬性规定吗？", "这算硬杠杠吗？", "这个非得做吗？"):
        r = resolve(q, prev, an, corpus, nouns)
        assert r.kind == "strength" and r.unit == ("tiny", "2.2"), q


def test_pairs_every_unit_shares_tell_no_unit_apart(corpus):
    """In the real corpus 品牌 is in half the units: a follow-up sharing only it with the
    previous answer describes none of its units ("品牌名称里一定要带上我们县的名字吗？" after an
    answer about brand roles is a question of its own)."""
    from assistant.chat.followup import _bigrams, resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    counts, n = corpus.pair_counts()
    assert n == len(corpus.units()) and counts["品牌"] > 0.3 * n and counts["侵权"] < 0.05 * n
    assert _bigrams("品牌名称", corpus) == {"牌名", "名称"} and "品牌" in _bigrams("品牌名称")
    an = QueryAnalyzer(corpus.vocab, [d.spec for d in corpus.documents.values()])
    nouns = ChineseTokenizer(None).nouns
    prev = {"question": "各个品牌之间的角色和边界怎么划？", "main": ["gxas-1220-2026", "6.2.3 b)"],
            "points": [["gxas-1220-2026", "6.2.3 b)"]], "items": [], "doc_ids": ["gxas-1220-2026"]}
    assert resolve("品牌名称里一定要带上我们县的名字吗？", prev, an, corpus, nouns).kind == "new"
    assert resolve("这一条是强制的吗？", prev, an, corpus, nouns).unit == ("gxas-1220-2026", "6.2.3 b)")


def test_naming_another_document_and_nothing_else_asks_the_previous_topic_there(corpus):
    """"广西那个标准呢？" / "What about the Guangxi standard?" after an answer from the GB/T draft:
    the same topic in the document named; a follow-up that also says what it asks is its own."""
    from assistant.chat.followup import resolve
    from assistant.index.tokenizer import ChineseTokenizer
    from assistant.retrieval.query import QueryAnalyzer

    an = QueryAnalyzer(corpus.vocab, [d.spec for d in corpus.documents.values()])
    nouns = ChineseTokenizer(None).nouns
    prev = {"question": "国标草案说定品牌架构之前要考虑些什么？", "main": ["gbt-cluster-draft", "6.1.2.2"],
            "points": [["gbt-cluster-draft", "6.1.2.2"]], "items": [], "doc_ids": ["gbt-cluster-draft"]}
    others = sorted(d for d in corpus.documents if d != "gxas-1220-2026")
    for q in ("广西那个标准呢？", "What about the Guangxi standard?", "那广西标准里是怎么规定的？"):
        r = resolve(q, prev, an, corpus, nouns)
        assert r.kind == "other-docs" and sorted(r.exclude_docs) == others, q
        assert "国标" not in r.question and "品牌架构" in r.question, q  # the topic, not the old document's name
    for q in ("广西标准的指标体系又是怎么分的？", "换个事问：红盾指南里的指导站要配多少人？",
              "What does the Guangxi standard say about quality management models?"):
        assert resolve(q, prev, an, corpus, nouns).kind == "new", q
