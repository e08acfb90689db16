"""Pilot report drafting on the real corpus with the sample form (docs/sample_form.toml)."""

from __future__ import annotations

import copy
import io
import re
import tomllib

import pytest

from tests.conftest import CORPUS, ROOT

from assistant.answer.citations import check_citation
from assistant.reports.draft import Drafter
from assistant.reports.export import to_dict, to_docx, to_markdown
from assistant.reports.form import FormError, load_form, parse_form

SAMPLE = ROOT / "docs" / "sample_form.toml"


@pytest.fixture(scope="module")
def raw():
    return tomllib.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drafter(corpus):
    return Drafter(corpus)


def _draft(drafter, corpus, kind, data):
    return drafter.draft(kind, parse_form(data, corpus))


def _headings(d) -> list[str]:
    out = []

    def walk(b):
        out.append(b.heading)
        for c in b.children:
            walk(c)

    for b in d.blocks:
        walk(b)
    return out


def test_summary_has_every_required_section(drafter, corpus, raw):
    d = _draft(drafter, corpus, "summary", raw)
    h = _headings(d)
    assert h[0] == "第一部分 总体推进情况"
    for part in ["一、综述", "二、试点工作组织情况", "三、主要工作项目开展情况", "四、区域品牌建设机制的变化",
                 "五、区域品牌影响力的变化", "六、存在问题及对策", "七、下一步工作计划", "八、其他需要说明内容",
                 "九、相关证实性材料"]:
        assert part in h, part
    five = [x for x in h if x.startswith("五、（")]
    assert len(five) == 10
    assert "区域品牌集体商标" in h and "主导产业主要指标情况（适用时）" in h
    md = to_markdown(d, with_checks=False)
    assert "区域品牌集体商标：正在申请" in md and "品牌奖励激励资金：有，支持力度 300 万元" in md
    assert "企业数（个）：申报时 412；上一年 398" in md
    assert "【待填写：" in md  # facts not given are placeholders, not inventions
    # scoring weights it feeds, verbatim from 附件2
    assert "工作项目完成情况（40分）" in md and "区域品牌建设机制（20分）" in md
    # the clauses worth citing for the protection mechanism
    assert "〔产业集群区域品牌建设试点实施指南 三、（五）〕" in md and "〔T/GXAS 1220—2026 6.4.4〕" in md
    assert all(c.level != "error" for c in d.checks)


def test_experience_and_application_have_their_parts(drafter, corpus, raw):
    e = _draft(drafter, corpus, "experience", raw)
    parts = [x for x in _headings(e) if re.match(r"^\d\. ", x)]
    assert [p.split()[1] for p in parts] == ["名称", "概述", "背景", "典型经验", "实践及效果", "推广价值"]
    wc = next(c for c in e.checks if c.field == "典型经验.字数")
    assert "3000–5000" in wc.message and wc.level == "warning"  # the sample is far too short
    a = _draft(drafter, corpus, "application", raw)
    md = to_markdown(a, with_checks=False)
    assert "承诺书" in _headings(a) and "申报单位名称：示例市陶瓷产业集群区域品牌建设试点工作领导小组办公室" in md
    sa = next(c for c in a.checks if c.field == "申请表.自我评价")
    assert sa.level == "ok" and "限 500 字" in sa.message


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_every_citation_resolves_with_a_verbatim_quote(drafter, corpus, raw, kind):
    d = _draft(drafter, corpus, kind, raw)
    cites = d.citations()
    assert cites
    for c in cites:
        assert check_citation(corpus, c) is None, c.cite


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_no_number_in_a_draft_that_is_not_in_the_input_or_the_corpus(drafter, corpus, raw, kind):
    md = to_markdown(_draft(drafter, corpus, kind, raw), with_checks=False)
    source = SAMPLE.read_text(encoding="utf-8") + "\n".join(
        "\n".join(d.source_lines) + d.spec.code for d in corpus.documents.values())
    for num in set(re.findall(r"\d+(?:\.\d+)?", md)):
        assert num in source, num


def test_docx_opens_and_has_the_headings(drafter, corpus, raw):
    from docx import Document

    d = _draft(drafter, corpus, "summary", raw)
    doc = Document(io.BytesIO(to_docx(d)))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert heads[0] == "产业集群区域品牌建设试点工作总结报告"
    assert "第二部分 试点工作总结" in heads and "九、相关证实性材料" in heads
    assert any("〔产业集群区域品牌建设试点实施指南 三、（五）〕" in p.text for p in doc.paragraphs)


def test_inconsistent_status_and_notes_are_flagged(drafter, corpus, raw):
    data = copy.deepcopy(raw)
    data["状态"]["区域品牌集体商标"] = "尚未启动申请工作"
    data["说明"]["四、"] = "我市已成功注册区域品牌集体商标。"
    d = _draft(drafter, corpus, "summary", data)
    errs = [c for c in d.checks if c.level == "error"]
    assert errs and errs[0].field == "状态.区域品牌集体商标" and "已注册" in errs[0].message


@pytest.mark.parametrize("mutate,field,needle", [
    (lambda d: d.pop("单位"), "单位", "必填"),
    (lambda d: d["状态"].__setitem__("区域品牌集体商标", "已申请"), "状态.区域品牌集体商标", "尚未启动申请工作"),
    (lambda d: d["状态"].__setitem__("不存在的栏目", "有"), "状态.不存在的栏目", "可填栏目"),
    (lambda d: d["状态"].__setitem__("试点以来品牌培训人次", "很多"), "状态.试点以来品牌培训人次", "数字"),
    (lambda d: d["指标"].__setitem__("企业数（个）", {"申报时": "四百"}), "指标.企业数（个）.申报时", "数字"),
    (lambda d: d.__setitem__("说明", ["不是表"]), "说明", "键值表"),
])
def test_bad_form_gives_a_clear_error_naming_the_field(corpus, raw, mutate, field, needle):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(FormError) as exc:
        parse_form(data, corpus)
    assert exc.value.field == field and needle in exc.value.message


def test_cli_writes_docx_markdown_and_json(tmp_path, capsys):
    from assistant.cli import main

    for suffix in ("docx", "md", "json"):
        out = tmp_path / f"draft.{suffix}"
        assert main(["report", "draft", "--type", "summary", "--input", str(SAMPLE), "--out", str(out)]) == 0
        assert out.stat().st_size > 1000
    bad = tmp_path / "bad.toml"
    bad.write_text('"主导产业" = "x"\n', encoding="utf-8")
    assert main(["report", "draft", "--type", "summary", "--input", str(bad)]) == 2
    assert "「单位」" in capsys.readouterr().err


def test_load_form_reports_syntax_errors(tmp_path):
    p = tmp_path / "f.toml"
    p.write_text("[状态]\n", encoding="utf-8")
    with pytest.raises(FormError, match="格式错误"):
        load_form(p)


def test_api_report_endpoints(corpus, raw, tmp_path):
    from fastapi.testclient import TestClient
    from llama_index.core.embeddings import MockEmbedding

    from assistant.api.app import create_app
    from assistant.index.store import build_index, load_index
    from assistant.service import make_chat
    from assistant.settings import Settings

    s = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "i", data_dir=tmp_path / "d", open_mode=True)
    embed = MockEmbedding(embed_dim=8)
    build_index(corpus, s, embed)
    with TestClient(create_app(s, chat=make_chat(s, load_index(corpus, s, embed, rebuild="never")))) as c:
        r = c.post("/v1/reports/draft", json={"type": "summary", "form": raw})
        assert r.status_code == 200 and r.json()["citations"] and "九、相关证实性材料" in r.json()["markdown"]
        r = c.post("/v1/reports/draft.docx", json={"type": "experience", "form": raw})
        assert r.status_code == 200 and r.content[:2] == b"PK"
        r = c.post("/v1/reports/draft", json={"type": "summary", "form": {"主导产业": "x"}})
        assert r.status_code == 422 and "单位" in r.json()["detail"]
        assert "区域品牌集体商标" in [x["name"] for x in c.get("/v1/reports/fields").json()["status"]]
    assert to_dict(Drafter(corpus).draft("summary", parse_form(raw, corpus)))["unit"]
