"""Pilot report drafting: the 公文-layout DOCX on a small hand-made draft (unit), and the three
documents on the real corpus with the sample form (docs/sample_form.toml)."""

from __future__ import annotations

import copy
import io
import re
import subprocess
import tomllib

import pytest

from tests.conftest import CORPUS, ROOT

from assistant.answer.citations import check_citation
from assistant.answer.models import Citation
from assistant.reports.draft import Block, Cell, Check, Draft, Drafter, Table
from assistant.reports.export import checklist_docx, checklist_markdown, to_dict, to_docx, to_markdown
from assistant.reports.form import FormError, form_fields, load_form, parse_form

SAMPLE = ROOT / "docs" / "sample_form.toml"
PROMPT = re.compile(r"【待补充：([^】]*)】")


# -- helpers --------------------------------------------------------------------------------

def _open(data: bytes):
    from docx import Document

    return Document(io.BytesIO(data))


def _east_asia(run) -> str | None:
    from docx.oxml.ns import qn

    rpr = run._r.rPr
    return rpr.rFonts.get(qn("w:eastAsia")) if rpr is not None and rpr.rFonts is not None else None


def _cells(table) -> list:
    """Each merged cell once, row by row."""
    seen, out = set(), []
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                out.append(cell)
    return out


def _text(doc) -> str:
    """Everything a reader sees in the body: paragraphs and table cells (footers excluded)."""
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for c in _cells(t)])


def _styled(doc, style: str) -> list:
    return [p for p in doc.paragraphs if p.style.name == style and p.text.strip()]


def _assert_run_font(paragraph, font: str, size: float) -> None:
    assert paragraph.runs, paragraph.text
    for r in paragraph.runs:
        assert _east_asia(r) == font, (paragraph.text, _east_asia(r))
        assert r.font.size.pt == size, (paragraph.text, r.font.size.pt)


@pytest.fixture(scope="module")
def raw():
    return tomllib.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drafter(corpus):
    return Drafter(corpus)


def _draft(drafter, corpus, kind, data):
    return drafter.draft(kind, parse_form(data, corpus))


# -- unit: the 公文 layout on a small hand-made draft -------------------------------------------

CITE = Citation(doc_id="tiny", doc_code="T/TINY 1—2026", doc_title="微型标准", label="2.1.1",
                quote="宜推动制定行业自律公约。", strength="should")


def _tiny(cover: bool = True) -> Draft:
    table = Table([20.0, 60.0, 76.0], [
        [Cell("总体进度", colspan=2, head=True), Cell("☑完成\u3000☐延期")],
        [Cell("建设情况", rowspan=2, head=True), Cell("集体商标"), Cell("☐已注册\u3000☑正在申请")],
        [Cell("管理机构"), Cell("☑政府")],
    ])
    return Draft("summary", "微型试点工作总结报告", "某单位", [
        Block("第一部分  总体推进情况", level="part", tables=[table], children=[
            Block("集体商标", level="item", requirement=CITE, filled=True)]),
        Block("一、综述", key="一、", paragraphs=["第一段事实。", "第二段事实。"], requirement=CITE, scoring=[CITE],
              cites=[CITE], filled=True, chars=12, children=[
                  Block("（一）品牌建设", level="h2", key="一、（一）", paragraphs=["【待补充：销售收入占比】"], filled=False)]),
    ], [Check("warning", "说明.一、（一）", "未填写。", "gap", "一、（一）品牌建设"),
        Check("ok", "第二部分", "齐全。", "structure"),
        Check("error", "状态.集体商标", "状态与说明矛盾。", "conflict")],
        title_lines=["微型试点", "工作总结报告"], cover=["单位：某单位（公章）", "日期：　　年　月　日"] if cover else [])


def test_docx_page_is_a4_with_gongwen_margins_and_page_numbers():
    doc = _open(to_docx(_tiny()))
    assert len(doc.sections) == 2  # the cover, then the numbered body
    for s in doc.sections:
        assert abs(s.page_width.mm - 210) < 0.1 and abs(s.page_height.mm - 297) < 0.1
        got = [round(x.mm) for x in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)]
        assert got == [37, 35, 28, 26]
    cover, body = doc.sections
    assert cover.footer.is_linked_to_previous and not "".join(p.text for p in cover.footer.paragraphs)
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((body.footer, "RIGHT"), (body.even_page_footer, "LEFT")):  # 单页居右，双页居左
        p = footer.paragraphs[0]
        assert p.text == "— 1 —" and p.alignment.name == align
        assert " PAGE " in footer._element.xml  # a real field, not a typed number
        assert _east_asia(p.runs[0]) == "宋体" and p.runs[0].font.size.pt == 14
    assert body._sectPr.xpath("./w:pgNumType/@w:start") == ["1"]


def test_docx_fonts_and_sizes_of_title_body_and_headings():
    from docx.enum.text import WD_LINE_SPACING

    doc = _open(to_docx(_tiny()))
    titles = _styled(doc, "公文标题")
    assert [p.text for p in titles] == ["微型试点", "工作总结报告"]  # broken as on the original form
    for p in titles:
        _assert_run_font(p, "方正小标宋简体", 22)
        assert (p.alignment or p.style.paragraph_format.alignment).name == "CENTER"
    [part] = _styled(doc, "部分标题")
    _assert_run_font(part, "黑体", 16)
    [h1] = _styled(doc, "一级标题")
    assert h1.text == "一、综述"
    _assert_run_font(h1, "黑体", 16)
    [h2] = _styled(doc, "二级标题")
    assert h2.text == "（一）品牌建设"
    _assert_run_font(h2, "楷体", 16)
    body = [p for p in _styled(doc, "公文正文") if "事实" in p.text]
    assert [p.text for p in body] == ["第一段事实。", "第二段事实。"]  # one paragraph per line of the note
    for p in body:
        _assert_run_font(p, "仿宋", 16)
    style = doc.styles["公文正文"]
    assert style.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert 28 <= style.paragraph_format.line_spacing.pt <= 29
    assert style.paragraph_format.first_line_indent.pt == 32  # 首行缩进二字
    assert style.element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋"
    # no theme font can override the named ones, and Chinese text is tagged zh-CN
    for name in ("公文标题", "公文正文", "部分标题", "一级标题", "二级标题", "表格文字", "表格栏目", "页码", "Normal"):
        assert "Theme" not in doc.styles[name].element.xml, name
    assert 'w:eastAsia="zh-CN"' in doc.styles.element.xml
    # the named fonts are declared with the GB2312 charset, so Word/WPS substitute a like font if one is missing
    font_table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    for name in ("方正小标宋简体", "仿宋", "黑体", "楷体"):
        assert f'w:name="{name}"' in font_table


def test_docx_table_has_the_merged_cells_and_widths():
    doc = _open(to_docx(_tiny()))
    [t] = doc.tables
    assert (len(t.rows), len(t.columns)) == (3, 3)
    assert t.cell(0, 0)._tc is t.cell(0, 1)._tc and t.cell(0, 0).text == "总体进度"  # colspan
    assert t.cell(1, 0)._tc is t.cell(2, 0)._tc and t.cell(1, 0).text == "建设情况"  # rowspan
    assert [c.text for c in _cells(t)] == ["总体进度", "☑完成\u3000☐延期", "建设情况", "集体商标", "☐已注册\u3000☑正在申请",
                                           "管理机构", "☑政府"]
    assert [round(c.width.mm) for c in t.columns] == [20, 60, 76]
    head = t.cell(1, 0).paragraphs[0].runs[0]
    assert _east_asia(head) == "黑体" and _east_asia(t.cell(1, 1).paragraphs[0].runs[0]) == "仿宋"


def test_the_draft_holds_no_checklist_material_and_the_checklist_holds_it():
    d = _tiny()
    for text in (to_markdown(d), _text(_open(to_docx(d)))):
        assert "第一段事实。" in text and "【待补充：销售收入占比】" in text
        for word in ("要求：", "评分：", "可引用", "〔", "检查", "状态与说明矛盾"):
            assert word not in text, word
        assert "集体商标" in text and text.count("集体商标") == 1  # the checklist-only entry is not printed
    cl = checklist_markdown(d)
    assert "要求：宜推动制定行业自律公约。〔T/TINY 1—2026 2.1.1〕" in cl
    assert "评分：宜推动制定行业自律公约。" in cl and "可引用：宜推动制定行业自律公约。" in cl
    assert "### 一、综述（已写 12 字）" in cl and "### （一）品牌建设（待补充）" in cl
    docx_text = _text(_open(checklist_docx(d)))
    assert "〔T/TINY 1—2026 2.1.1〕" in docx_text and "不随申报材料提交" in docx_text


def test_checks_are_listed_contradictions_first_then_structure_then_gaps():
    d = _tiny()
    assert [c.kind for c in d.checks] == ["conflict", "structure", "gap"]
    cl = checklist_markdown(d)
    results = cl.split("## 一、检查结果", 1)[1].split("## 二、", 1)[0]
    bullets = [line for line in results.splitlines() if line.startswith("- ")]
    assert bullets[0] == "- [需修改] 前后矛盾｜集体商标：状态与说明矛盾。"
    assert bullets[-1].startswith("- [提示] 待补充（1 处）：一、（一）品牌建设")


def test_a_draft_without_cover_starts_with_its_title_and_numbers_every_page():
    d = _tiny(cover=False)
    d.byline = "某单位"
    doc = _open(to_docx(d))
    assert len(doc.sections) == 1 and doc.sections[0].footer.paragraphs[0].text == "— 1 —"
    assert doc.paragraphs[0].text == "微型试点" and any(p.text == "某单位" for p in doc.paragraphs[:5])


# -- integration: the real corpus and the sample form ------------------------------------------

def test_summary_follows_the_outline_with_the_forms_own_tables(drafter, corpus, raw):
    d = _draft(drafter, corpus, "summary", raw)
    heads = [b.heading for b in d.walk() if b.level != "item"]
    assert heads[:2] == ["第一部分  总体推进情况", "第二部分  试点工作总结"]
    for part in ["一、综述", "二、试点工作组织情况", "三、主要工作项目开展情况", "四、区域品牌建设机制的变化",
                 "五、区域品牌影响力的变化", "六、存在问题及对策", "七、下一步工作计划", "八、其他需要说明内容",
                 "九、相关证实性材料"]:
        assert part in heads, part
    assert [h for h in heads if h.startswith("（")][:2] == ["（一）品牌建设", "（二）产业规模"]
    assert len([h for h in heads if h.startswith("（")]) == 10
    assert d.title_lines == ["产业集群区域品牌建设试点", "工作总结报告"]
    assert d.cover == ["单位：示例市陶瓷产业集群区域品牌建设试点工作领导小组办公室（公章）",
                       "日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日"]
    assert all(c.level != "error" for c in d.checks)


def test_summary_docx_part_one_tables_are_those_of_annex_1(drafter, corpus, raw):
    from assistant.reports.form import indicator_names, status_items

    doc = _open(to_docx(_draft(drafter, corpus, "summary", raw)))
    status, ind = doc.tables
    items = list(status_items(corpus))
    # 总体进度 + 13 items of 区域品牌建设情况; columns: category | item | options
    assert (len(status.rows), len(status.columns)) == (len(items), 3) == (14, 3)
    assert status.cell(0, 0).text == "总体进度" and status.cell(0, 0)._tc is status.cell(0, 1)._tc
    assert status.cell(1, 0).text == "区域品牌建设情况" and status.cell(1, 0)._tc is status.cell(13, 0)._tc
    assert [status.cell(r, 1).text for r in range(1, 14)] == items[1:]
    row = {status.cell(r, 1).text: status.cell(r, 2).text for r in range(1, 14)}
    assert row["区域品牌集体商标"] == "☐已注册\u3000☑正在申请\u3000☐尚未启动申请工作"
    assert row["品牌奖励激励资金"] == "☑有，支持力度 300 万元\u3000☐无"
    assert row["试点以来品牌培训人次"] == "860"
    # the options keep the form's line break, and wrap between options, never inside one
    assert status.cell(0, 2).text == "☐完成试点工作\u3000☑按进度推进试点工作\n☐部分工作延期\u3000☐尚未开展工作\n☐准备中止试点工作"
    # 主导产业主要指标情况（适用时）: a category column, then 指标名称 申报时 上一年 twice; 6 rows of two indicators
    assert (len(ind.rows), len(ind.columns)) == (7, 7)
    assert ind.cell(0, 0).text == "主导产业主要指标情况（适用时）" and ind.cell(0, 0)._tc is ind.cell(6, 0)._tc
    assert [ind.cell(0, c).text for c in range(1, 7)] == ["指标名称", "申报时", "上一年"] * 2
    names = indicator_names(corpus)
    assert [ind.cell(r, c).text for r in range(1, 7) for c in (1, 4)] == names + [""]  # as ordered in 附件1
    assert [ind.cell(1, c).text for c in (1, 2, 3)] == ["企业数（个）", "412", "398"]
    assert [ind.cell(3, c).text for c in (1, 2, 3)] == ["总产值（亿元）", "86.5", "79.2"]
    assert ind.cell(4, 2).text == ""  # 增加值 not given: blank, as 适用时 allows; listed in the checklist


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_the_draft_docx_has_no_requirements_scores_or_citations(drafter, corpus, raw, kind):
    d = _draft(drafter, corpus, kind, raw)
    text = _text(_open(to_docx(d)))
    for word in ("要求：", "可引用条款", "可引用", "评分", "分）", "〔", "待填写", "检查结果"):
        assert word not in text, word
    assert to_markdown(d).count("〔") == 0


def _facts(raw: dict, kind: str) -> list[str]:
    """Each fact of the sample form as it must read in that draft."""
    if kind == "summary":
        out = [raw["单位"]]
        for name, v in raw["状态"].items():
            out.append(f"支持力度 {v} 万元" if name.endswith("（万元）") else f"☑{v}" if isinstance(v, str) else str(v))
        for cols in raw["指标"].values():
            out += [str(v) for v in cols.values()]
        return out + [p.strip() for note in raw["说明"].values() for p in note.splitlines() if p.strip()]
    if kind == "experience":
        return [raw["单位"]] + list(raw["典型经验"].values())
    return [raw["单位"], raw["主导产业"]] + list(raw["申请表"].values())


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_every_fact_of_the_sample_form_is_in_the_draft(drafter, corpus, raw, kind):
    text = _text(_open(to_docx(_draft(drafter, corpus, kind, raw))))
    for fact in _facts(raw, kind):
        assert fact in text, fact


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_no_number_in_the_draft_is_absent_from_the_form_or_the_corpus(drafter, corpus, raw, kind):
    d = _draft(drafter, corpus, kind, raw)
    source = SAMPLE.read_text(encoding="utf-8") + "\n".join(
        "\n".join(doc.source_lines) + doc.spec.code for doc in corpus.documents.values())
    for text in (_text(_open(to_docx(d))), to_markdown(d)):
        for num in set(re.findall(r"\d+(?:\.\d+)?", text)):
            assert num in source, num


def test_missing_facts_are_short_visible_prompts_and_known_facts_fill_empty_sections(drafter, corpus, raw):
    d = _draft(drafter, corpus, "summary", raw)
    text = _text(_open(to_docx(d)))
    prompts = PROMPT.findall(text)
    assert prompts and all(len(p) <= 25 for p in prompts), prompts
    # one prompt per section the applicant left empty, nothing more (the old draft had 40 markers)
    empty = [b for b in d.walk() if b.filled is False and b.level != "item"]
    assert len(prompts) == len(empty) == 14
    # 三、 has no note: the form's numbers are written there as sentences, then the prompt
    three = next(b for b in d.walk() if b.key == "三、")
    assert three.paragraphs == ["试点以来开展品牌培训860人次；试点以来导入品牌培育管理体系的企业数为24。",
                                "【待补充：试点方案各项任务的完成情况、效果和问题】"]
    # a section with a note shows the note only
    assert next(b for b in d.walk() if b.key == "四、").paragraphs == [raw["说明"]["四、"]]


def test_empty_form_sections_get_facts_from_part_one(drafter, corpus, raw):
    data = copy.deepcopy(raw)
    data["说明"] = {}
    d = _draft(drafter, corpus, "summary", data)
    by_key = {b.key: b.paragraphs for b in d.walk()}
    assert by_key["一、"][0] == "试点集群主导产业为日用陶瓷；试点工作总体进度：按进度推进试点工作。"
    assert by_key["五、（二）"][0] == ("主导产业企业数上一年为398个，申报时为412个；主导产业规上企业数上一年为52个，申报时为57个；"
                                   "主导产业总产值上一年为79.2亿元，申报时为86.5亿元。")
    assert "有品牌奖励激励资金，支持力度300万元" in by_key["二、"][0]
    assert by_key["五、（三）"] == ["【待补充：主要技术指标、专利、参与标准制定情况】"]


def test_checklist_has_requirements_scores_and_clauses_per_section(drafter, corpus, raw):
    d = _draft(drafter, corpus, "summary", raw)
    cl = checklist_markdown(d)
    # verbatim requirement, 附件2 scoring items with their 分值, clauses with citations
    assert "- 要求：简要描述试点工作总体推进情况，工作思路及效果。〔产业集群区域品牌建设试点工作总结报告、评价说明及评价申请书 附件1 一、〕" in cl
    assert "工作项目完成情况（40分）" in cl and "区域品牌建设机制（20分）" in cl and "区域品牌影响力（10分）" in cl
    assert "〔产业集群区域品牌建设试点实施指南 三、（五）〕" in cl and "〔T/GXAS 1220—2026 6.4.4〕" in cl
    assert "### 四、区域品牌建设机制的变化（已写 37 字）" in cl and "### 六、存在问题及对策（待补充）" in cl
    assert "### 区域品牌集体商标" in cl and "〔T/GXAS 1220—2026 9.3.1 c) 3)〕" in cl
    assert "主导产业主要指标：8 项指标未填（适用时填写）：税收总额（亿元）" in cl
    text = _text(_open(checklist_docx(d)))
    assert "工作项目完成情况（40分）" in text and "不随申报材料提交" in text


@pytest.mark.parametrize("kind", ["summary", "experience", "application"])
def test_every_citation_resolves_with_a_verbatim_quote(drafter, corpus, raw, kind):
    d = _draft(drafter, corpus, kind, raw)
    cites = d.citations()
    assert cites
    for c in cites:
        assert check_citation(corpus, c) is None, c.cite
    for c in cites:  # and the checklist shows each of them
        assert c.cite in checklist_markdown(d)


def test_inconsistent_status_and_notes_come_first_with_a_chinese_label(drafter, corpus, raw):
    data = copy.deepcopy(raw)
    data["状态"]["区域品牌集体商标"] = "尚未启动申请工作"
    data["说明"]["四、"] = "我市已成功注册区域品牌集体商标。"
    d = _draft(drafter, corpus, "summary", data)
    first = d.checks[0]
    assert (first.kind, first.level, first.field, first.label) == ("conflict", "error", "状态.区域品牌集体商标", "区域品牌集体商标")
    assert "已注册" in first.message
    assert all(c.label and "." not in c.label for c in d.checks)  # 中文名称, not 状态.xxx paths
    results = checklist_markdown(d).split("## 一、检查结果", 1)[1]
    assert results.lstrip().startswith("- [需修改] 前后矛盾｜区域品牌集体商标：状态为「尚未启动申请工作」")


def test_experience_draft_is_titled_by_its_name_with_five_sections(drafter, corpus, raw):
    d = _draft(drafter, corpus, "experience", raw)
    assert d.title == "以产业联盟为纽带的区域品牌共建共享机制" and d.byline == raw["单位"] and not d.cover
    assert [b.heading for b in d.blocks] == ["一、概述", "二、背景", "三、典型经验", "四、实践及效果", "五、推广价值"]
    assert d.blocks[1].paragraphs == ["【待补充：说明原来的状态和希望解决的问题】"]  # 附件3's own words
    wc = next(c for c in d.checks if c.field == "典型经验.字数")
    assert "3000–5000" in wc.message and wc.level == "warning" and wc.kind == "length"  # the sample is far too short
    doc = _open(to_docx(d))
    _assert_run_font(_styled(doc, "公文标题")[0], "方正小标宋简体", 22)
    assert [p.text for p in _styled(doc, "一级标题")] == [b.heading for b in d.blocks]
    cl = checklist_markdown(d)
    assert "创新性（30分）" in cl and "区域品牌建设典型经验示范效应（10分）" in cl and "不是若干项工作的罗列" in cl
    no_name = copy.deepcopy(raw)
    del no_name["典型经验"]["名称"]
    assert _draft(drafter, corpus, "experience", no_name).title == "【待补充：名称（提炼经验做法）】"


def test_application_has_its_cover_pledge_and_form_table(drafter, corpus, raw):
    d = _draft(drafter, corpus, "application", raw)
    assert d.title_lines == ["产业集群区域品牌建设试点评价", "申请书"]
    assert d.cover[0] == "申请单位：示例市陶瓷产业集群区域品牌建设试点工作领导小组办公室（公章）"
    pledge, form = d.blocks
    assert pledge.heading == "承诺书" and pledge.paragraphs[1] == "1.所提交申报材料真实、准确、有效，并愿意承担相应责任。"
    assert pledge.paragraphs[-1] == "负责人签字："
    doc = _open(to_docx(d))
    [t] = doc.tables
    assert (len(t.rows), len(t.columns)) == (7, 6)
    assert [c.text for c in _cells(t)][:4] == ["申报单位名称", raw["单位"], "主导产业", "日用陶瓷"]
    assert [t.cell(2, c).text for c in range(6)] == ["单位负责人", "（示例）张某", "职务", "主任", "座机", "【待补充：座机】"]
    assert t.cell(5, 0).text.startswith("试点工作完成情况自我评价（限500字）：\n试点方案确定的主要任务按进度推进")
    assert t.cell(6, 0).text.startswith("推荐部门审查推荐意见：") and t.cell(6, 0)._tc is t.cell(6, 5)._tc
    assert round(t.rows[5].height.mm) == 90  # room to write the 500 characters


@pytest.mark.parametrize("chars,level,needle", [(500, "ok", "500 字；限 500 字"), (501, "error", "超出 1 字"),
                                                (0, "warning", "0 字")])
def test_self_assessment_is_counted_against_its_500_character_limit(drafter, corpus, raw, chars, level, needle):
    data = copy.deepcopy(raw)
    data["申请表"]["自我评价"] = ("品牌建设。" * 120)[:chars] + "\n  " if chars else ""
    c = next(c for c in _draft(drafter, corpus, "application", data).checks if c.field == "申请表.自我评价")
    assert c.level == level and needle in c.message, c.message


def test_form_fields_give_the_ui_chinese_headings(corpus):
    f = form_fields(corpus)
    assert {"key": "五、（三）", "heading": "五、（三）技术水平"} in f["note_headings"]
    assert f["self_assessment_limit"] == 500 and "申报联系人" in f["application"]


def test_draft_renders_to_a4_pages_with_the_fallback_fonts(drafter, corpus, raw):
    """LibreOffice → PDF → PNG of the first two pages in test-artifacts/, to look at."""
    from assistant.reports.render import docx_to_pdf, missing_tools, pdf_fonts, pdf_to_pngs

    if missing_tools():
        pytest.skip("not installed: " + ", ".join(missing_tools()) + " (scripts/setup.sh installs them with apt)")
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    src = out / "report-summary.docx"
    src.write_bytes(to_docx(_draft(drafter, corpus, "summary", raw)))
    pdf = docx_to_pdf(src, out)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 4
    pngs = pdf_to_pngs(pdf, out / "report-summary", 1, 2)
    assert len(pngs) == 2 and all(p.stat().st_size > 20_000 for p in pngs)
    fonts = " ".join(pdf_fonts(pdf))
    for face in ("NotoSerifCJK", "-Bold", "NotoSansCJK", "LXGWWenKai"):  # 仿宋, 小标宋, 黑体, 楷体 fallbacks
        assert face in fonts, fonts
    # the check boxes are drawn with a font that has them (text extraction alone would not show a
    # box the renderer left blank, as it did when its fallback was the colour emoji font)
    assert "DejaVuSans" in fonts and "Emoji" not in fonts, fonts
    page2 = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-layout", str(pdf), "-"], capture_output=True,
                           text=True).stdout
    assert "第一部分" in page2 and "☑按进度推进试点工作" in page2 and "☑正在申请" in page2
    assert re.search(r"—\s*1\s*—", page2)  # the cover is not numbered; page 2 is 1
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "工作总结报告" in page1 and "（公章）" in page1 and "—" not in page1


# -- form errors, CLI, API --------------------------------------------------------------------

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


def test_cli_writes_the_draft_and_its_checklist(tmp_path, capsys):
    from assistant.cli import main

    out = tmp_path / "总结报告.docx"
    assert main(["report", "draft", "--type", "summary", "--input", str(SAMPLE), "--out", str(out)]) == 0
    checklist = tmp_path / "总结报告-检查清单.docx"
    assert "〔" not in _text(_open(out.read_bytes())) and "〔" in _text(_open(checklist.read_bytes()))
    md = tmp_path / "典型经验.md"
    assert main(["report", "draft", "--type", "experience", "--input", str(SAMPLE), "--out", str(md)]) == 0
    assert md.read_text(encoding="utf-8").startswith("# 以产业联盟为纽带的区域品牌共建共享机制")
    assert "创新性（30分）" in (tmp_path / "典型经验-检查清单.md").read_text(encoding="utf-8")
    js = tmp_path / "申请书.json"
    assert main(["report", "draft", "--type", "application", "--input", str(SAMPLE), "--out", str(js)]) == 0
    assert js.stat().st_size > 1000
    err = capsys.readouterr().err
    assert "[提示] 手机：未填写" in err and "状态." not in err
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
        body = r.json()
        assert r.status_code == 200 and body["citations"] and "九、相关证实性材料" in body["markdown"]
        assert "〔" not in body["markdown"] and "〔T/GXAS 1220—2026 6.4.4〕" in body["checklist_markdown"]
        assert body["checks"][0]["label"] and {x["kind"] for x in body["checks"]} >= {"structure", "gap"}
        r = c.post("/v1/reports/draft.docx", json={"type": "experience", "form": raw})
        assert r.status_code == 200 and r.content[:2] == b"PK"
        r = c.post("/v1/reports/checklist.docx", json={"type": "summary", "form": raw})
        assert r.status_code == 200 and "工作项目完成情况（40分）" in _text(_open(r.content))
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
        r = c.post("/v1/reports/draft", json={"type": "summary", "form": {"主导产业": "x"}})
        assert r.status_code == 422 and "单位" in r.json()["detail"]
        assert c.post("/v1/reports/checklist.docx", json={"type": "summary", "form": {}}).status_code == 422
        fields = c.get("/v1/reports/fields").json()
        assert "区域品牌集体商标" in [x["name"] for x in fields["status"]]
        assert fields["note_headings"][0] == {"key": "一、", "heading": "一、综述"}
    assert to_dict(Drafter(corpus).draft("summary", parse_form(raw, corpus)))["unit"]

