"""Answers, citations, sessions, follow-ups and the LLM path on the tiny corpus."""

from __future__ import annotations

import threading

import pytest

from assistant.answer.models import Citation
from assistant.answer.citations import check_citation
from assistant.chat.service import ChatService
from assistant.chat.sessions import SessionStore
from assistant.errors import InvalidQueryError
from assistant.index.store import load_index
from assistant.retrieval.retriever import HybridClauseRetriever


@pytest.fixture
def chat(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    return ChatService(index, HybridClauseRetriever(index, mode="bm25"), settings)


def test_extractive_answer_quotes_verbatim_and_groups_by_strength(chat):
    answer, sid, turn = chat.ask("行业社会组织举报违法侵权行为")
    assert answer.supported and answer.mode == "extractive" and turn == 1
    labels = [c.label for c in answer.citations]
    assert "2.1.1 a)" in labels
    for c in answer.citations:
        assert check_citation(chat.index.corpus, c) is None
        assert c.quote in answer.answer.replace(" ", "") or c.quote.replace("\n", " ") in answer.answer
        assert c.cite in answer.answer
    assert "应（必须）" in answer.answer and "宜（建议）" in answer.answer
    assert answer.answer.startswith("根据《微型标准》（T/TINY 1—2026）")
    # shall items are listed before should items
    assert answer.answer.index("应开展市场监测") < answer.answer.index("宜推动制定行业自律公约")


def test_validator_rejects_invented_clause_wrong_quote_and_wrong_code(chat):
    corpus = chat.index.corpus
    good = Citation("tiny", "T/TINY 1—2026", "微型标准", "3.1", "宜制定国际化战略", "should")
    assert check_citation(corpus, good) is None
    assert "没有条款" in check_citation(corpus, Citation("tiny", "T/TINY 1—2026", "微型标准", "9.9", "宜制定", "should"))
    assert "原文" in check_citation(corpus, Citation("tiny", "T/TINY 1—2026", "微型标准", "3.1", "应制定国际化战略", "shall"))
    assert "编号" in check_citation(corpus, Citation("tiny", "T/TINY 2—2026", "微型标准", "3.1", "宜制定", "should"))


def test_abstains_when_the_corpus_never_mentions_the_topic(chat):
    answer, _, _ = chat.ask("企业所得税税率是多少")
    assert not answer.supported and answer.citations == []
    assert answer.answer.startswith("无依据") and "所得税" in answer.answer


def test_a_specialised_word_the_corpus_never_uses_is_a_topic_but_an_everyday_verb_is_not(chat):
    composer = chat.composer
    assert composer._specialised("退税") and composer._specialised("抢注")   # rare in general Chinese
    assert not composer._specialised("交给") and not composer._specialised("加入")  # everyday verbs
    assert not composer._specialised("交到") and not composer._specialised("填好")  # verb + complement
    answer, _, _ = chat.ask("国际化战略出口退税怎么办理")
    assert not answer.supported and "退税" in answer.answer
    answer, _, _ = chat.ask("国际化战略制定好以后交到哪里")
    assert answer.supported and any(c.label == "3.1" for c in answer.citations)


@pytest.mark.parametrize("question, reason", [
    ("有多少个行业社会组织制定了行业自律公约", "数量"),        # a count the corpus does not state
    ("制定国际化战略需要多久", "时限"),                      # a duration
    ("制定国际化战略需要几个小时", "时限"),
    ("制定国际化战略的预算是多少", "金额"),                  # an amount of money
])
def test_abstains_when_the_question_asks_a_figure_the_evidence_lacks(chat, question, reason):
    answer, _, _ = chat.ask(question)
    assert not answer.supported and answer.citations == []
    assert reason in answer.answer


def test_hours_and_minutes_are_durations():
    from assistant.answer.compose import DURATION_EVIDENCE_RE, DURATION_RE

    assert DURATION_RE.search("舆情发生后几个小时内回应") and DURATION_RE.search("宣传片要多少分钟")
    assert DURATION_EVIDENCE_RE.search("24小时内回应") and not DURATION_EVIDENCE_RE.search("及时回应")


def test_bad_questions_are_clear_errors(chat):
    with pytest.raises(InvalidQueryError, match="不能为空"):
        chat.ask("   ")
    with pytest.raises(InvalidQueryError, match="过长"):
        chat.ask("品" * (chat.settings.max_query_chars + 1))
    with pytest.raises(InvalidQueryError, match="可选值"):
        chat.ask("品牌", role="不存在")


def test_followups_nth_strength_and_carry(chat):
    a1, sid, _ = chat.ask("行业社会组织举报违法侵权行为")
    second = a1.citations[1]
    a2, _, t2 = chat.ask("第二条具体怎么做？", session_id=sid)
    assert t2 == 2 and second.label in [c.label for c in a2.citations]
    assert all(c.label.startswith(second.label) for c in a2.citations)  # the unit and its items
    a3, _, _ = chat.ask("这一条是强制的吗", session_id=sid)
    assert f"〔T/TINY 1—2026 {a2.citations[0].label}〕" in a3.answer
    assert ("「应」" in a3.answer) == (a2.citations[0].strength == "shall")
    a4, _, _ = chat.ask("第九条呢", session_id=sid)
    assert not a4.supported and "没有第 9 条" in a4.answer


def test_sessions_survive_a_restart_and_keep_a_question_whose_answer_failed(chat, tiny, monkeypatch):
    _, settings, _ = tiny
    a1, sid, _ = chat.ask("国际化战略")
    monkeypatch.setattr(chat.composer, "answer", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        chat.ask("这句问题不能丢", session_id=sid)
    reopened = SessionStore(settings.sessions_db)  # a new process would open the same file
    turns = reopened.turns(sid)
    assert [t.question for t in turns] == ["国际化战略", "这句问题不能丢"]
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
