"""Issue 15 on the real corpus: the curated pairs in git are valid and each one is answered
with its units (every correction is a regression test); filters that leave a weaker answer
offer the unfiltered one; a role and phase steer without replacing the question's topic;
the copy text and the chat's Markdown come from the answer's structure. (integration)"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.integration

# the issue-15 measurement's pairs: eval data, kept out of corpus/curated (see its README)
MEASURE = ROOT / "evals" / "curated-measurement"


@pytest.mark.parametrize("folder,least", [(CORPUS / "curated", 0), (MEASURE, 68)])
def test_the_curated_pairs_in_git_are_valid(corpus, folder, least):
    from assistant.curated import CuratedStore

    store = CuratedStore(folder, corpus)
    assert store.problems == []
    assert len(store.pairs) >= least
    for p in store.pairs:
        for doc_id, label in p.units:
            assert label in corpus.doc(doc_id).by_label  # stored in canonical form


def test_every_curated_pair_is_answered_with_its_units(real_index, real_settings, tmp_path):
    """The regression test the admin loop promises: a corrected question stays corrected."""
    from assistant.chat.service import ChatService
    from assistant.chat.sessions import SessionStore
    from assistant.evaluation import run_answer_eval
    from assistant.service import make_retriever

    settings = real_settings.model_copy(update={"curated_dir": MEASURE})
    chat = ChatService(real_index, make_retriever(real_index, settings), settings,
                       store=SessionStore(tmp_path / "sessions.sqlite3"))
    evalset = chat.curated.eval_set()
    assert len(evalset.answerable) >= 68
    m = run_answer_eval(chat, evalset, retrieval=False)
    assert m["answer_hit"] == 1.0 and m["answered_rate"] == 1.0, m["missed"]
    assert m["verbatim"] == 1.0


def test_the_eval_reports_the_curated_pairs_apart(tmp_path, capsys, monkeypatch, real_settings):
    from assistant.cli import main
    from assistant.settings import get_settings

    for k, v in {"BA_INDEX_DIR": real_settings.index_dir, "BA_DATA_DIR": tmp_path / "data",
                 "BA_CORPUS_DIR": CORPUS, "BA_CURATED_DIR": MEASURE}.items():
        monkeypatch.setenv(k, str(v))
    get_settings.cache_clear()
    try:
        assert main(["curated", "export", "--out", str(tmp_path / "gold")]) == 0
        rows = [json.loads(x) for x in (tmp_path / "gold" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
        assert rows and all("source:curated" in r["tags"] and r["gold"] for r in rows)
        small = tmp_path / "small"
        small.mkdir()
        (small / "questions.jsonl").write_text(json.dumps(
            {"id": "s1", "q": "怎么打假", "gold": [["gxas-1220-2026", "6.4.4"]], "tags": []}, ensure_ascii=False) + "\n",
            encoding="utf-8")
        capsys.readouterr()
        assert main(["eval", "--gold", str(small), "--answers-only", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["curated"]["answerable"] == len(rows) and out["curated"]["answer_hit"] == 1.0
        assert out["answers"]["answerable"] == 1  # the set's own figures, without the pairs mixed in
    finally:
        get_settings.cache_clear()


def test_a_filter_that_leaves_a_weaker_answer_offers_the_unfiltered_one(real_chat):
    r = real_chat.ask_turn("典型经验字数要求", doc_ids=["gxas-1220-2026"])
    uf = r.answer.unfiltered
    assert uf is not None and uf.message == "在所选文件（T/GXAS 1220—2026）中未找到明确规定；在全部文件中有："
    assert uf.citations[0].doc_id == "miit-pilot-evaluation" and uf.citations[0].label == "附件3 二、"
    assert all(c.doc_id == "gxas-1220-2026" for c in r.answer.citations)  # the filtered answer is still filtered
    # a filter that already gives an answer gets no hint
    assert real_chat.ask_turn("怎么打假", doc_ids=["gxas-1220-2026"]).answer.unfiltered is None


def test_a_role_and_phase_steer_but_keep_the_questions_topic(real_chat):
    a = real_chat.ask_turn("品牌授权怎么管理？", role="行业社会组织", phase="成长扩张期").answer
    assert a.points[0].citation.label == "6.4.1 b)"  # 授权 management, not the role's standing duties
    # a question with no topic of its own is about the role and phase
    b = real_chat.ask_turn("要做什么？", role="行业社会组织", phase="成长扩张期").answer
    assert any(p.note == "常设职责" for p in b.points)


def test_copy_text_and_markdown_from_the_structure(real_chat):
    from assistant.answer import render
    from assistant.answer.models import Answer
    from assistant.api.convert import ask_response

    r = real_chat.ask_turn("行业社会组织在成长扩张期要做什么？")
    data = ask_response(r.answer, r.session_id, r.turn).model_dump()  # what the UI receives
    a = Answer.from_dict(data)
    assert render.to_text(a) == data["answer"]  # the same structure, rebuilt from JSON
    text = render.copy_text(a)
    assert text.startswith(a.direct) and "〔" in text
    assert not re.search(r"<[a-z/]|\*\*|XXXX|:[a-z]+\[", text)  # no HTML, Markdown, placeholder code
    assert all(f"{c.cite}" in text for p in a.points for c in [p.citation])
    # the strength filter applies to the points, not only to the cards
    shall_only = render.points_markdown(a, {"shall"})
    assert "6.1.2.2.1 a)〕" in shall_only and "6.1.2.2.1 c)〕" not in shall_only  # a) 应…, c) 宜…
    assert "6.1.2.2.1 c)〕" in render.points_markdown(a)
    # a draft's placeholder number never reaches a citation
    assert all("XXXX" not in c.cite for c in a.citations)
