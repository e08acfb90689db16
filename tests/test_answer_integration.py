"""Answers on the real corpus with the real bundled model. (integration)"""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS, ROOT

from assistant.answer.citations import check_citation
from assistant.chat.service import ChatService
from assistant.chat.sessions import SessionStore
from assistant.evaluation import check_answer_regressions, load_gold, run_answer_eval
from assistant.index.embeddings import USEEmbedding
from assistant.index.store import build_index, load_index
from assistant.retrieval.retriever import HybridClauseRetriever
from assistant.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real_chat(tmp_path_factory, corpus):
    tmp = tmp_path_factory.mktemp("answers")
    settings = Settings(corpus_dir=CORPUS, index_dir=tmp / "index", data_dir=tmp / "data")
    embed = USEEmbedding()
    build_index(corpus, settings, embed)
    index = load_index(corpus, settings, embed, rebuild="never")
    return ChatService(index, HybridClauseRetriever(index), settings, store=SessionStore(tmp / "s.sqlite3"))


def test_role_and_phase_question(real_chat):
    answer, _, _ = real_chat.ask("行业社会组织在成长扩张期要做什么？")
    assert answer.supported and answer.roles == ["行业社会组织"] and answer.phases == ["成长扩张期"]
    labels = {(c.doc_id, c.label) for c in answer.citations}
    assert ("gxas-1220-2026", "6.1.2.2.1") in labels  # the role's standing duties
    assert "常设职责" in answer.answer
    assert any(c.label.startswith("7.") for c in answer.related)  # the phase's own sections
    # chapter 7 never names the role; the KPI list of 11.1 (every phase) does, but it is
    # something to evaluate the role by, not its duty in this phase
    assert ("gxas-1220-2026", "11.1 b) 2)") not in labels
    assert answer.answer.startswith("现有文件没有单列行业社会组织在成长扩张期的专门要求")
    # a role the phase chapter does name gets those units, phase-specific ones first
    firm, _, _ = real_chat.ask("品牌授权企业在成长扩张期要做什么")
    assert firm.citations[0].label.startswith("7.") and "相关规定如下" in firm.answer


def test_pilot_conditions_and_definition_and_figure(real_chat):
    a, _, _ = real_chat.ask("申报试点要什么条件？")
    assert ("miit-pilot-guide", "二、（一）") in {(c.doc_id, c.label) for c in a.citations}
    assert "〔产业集群区域品牌建设试点实施指南 二、（一）〕" in a.answer
    d, _, _ = real_chat.ask("红盾品牌是什么意思")
    assert d.citations[0].label == "3.2" and d.answer.startswith("「红盾品牌」")
    f, _, _ = real_chat.ask("典型经验字数要求")
    assert any("3000-5000字" in c.quote for c in f.citations)


def test_strength_followup_answers_from_the_cited_unit(real_chat):
    a, sid, _ = real_chat.ask("消费者投诉和侵权举报平台是必须建的吗")
    first = a.citations[0]
    b, _, _ = real_chat.ask("这一条是强制的吗", session_id=sid)
    assert first.cite in b.answer


def test_answer_eval_meets_floors_and_every_quote_is_verbatim(real_chat):
    gold = load_gold(ROOT / "evals" / "gold", real_chat.index.corpus)
    metrics = run_answer_eval(real_chat, gold)
    assert metrics["verbatim"] == 1.0, metrics["bad_quotes"]
    assert check_answer_regressions(metrics, ROOT / "evals" / "regressions.toml") == []


def test_no_unverified_citation_reaches_the_user(real_chat):
    for q in ["品牌出海怎么做", "怎么打假", "总结报告什么时候报送", "指导站的服务制度包括什么"]:
        a, _, _ = real_chat.ask(q)
        for c in a.citations + a.related:
            assert check_citation(real_chat.index.corpus, c) is None, (q, c)
