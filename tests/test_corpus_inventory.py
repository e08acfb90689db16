"""The real corpus: inventory, verbatim text, no lost lines, tags. (integration)"""

from __future__ import annotations

import re

import pytest

from assistant.corpus.parse import compact
from assistant.errors import UnknownClauseError, UnknownDocumentError

pytestmark = pytest.mark.integration

EXPECTED = {
    "gxas-1220-2026": ["6.4.4 g)", "6.1.1.2 f) 3)", "11.1 b) 5)", "6.4.3", "6.4.4", "3.1", "3.2 注1",
                       "6.2.4 注", "图1", "前言", "引言", "参考文献 [16]", "10.3.1.2 d)", "9.3.2 e)"],
    "miit-pilot-guide": ["三、（五）", "四、（六）", "二、（一）", "导语", "五、（三）"],
    "miit-pilot-evaluation": ["附件2 二、（二）", "附件3 二、", "附件2 一、（一）1.", "附件1 五、（十）",
                              "附件1 第一部分 区域品牌集体商标", "附件3 申请表", "附件3 承诺书 3.",
                              "二、（二）", "三、（二）", "附件1 九、"],
    "hzas-8-2020": ["7.4.3", "附录A", "表A.1", "5.2 注", "3.2"],
    "gbt-cluster-draft": ["9.1.4", "4.2.3", "9.1.4 c)", "0.2 a)", "3.4", "7.2.4"],
}


def test_no_load_errors_or_parser_warnings(corpus):
    assert corpus.errors == []
    assert set(corpus.documents) == set(EXPECTED)
    for doc in corpus.documents.values():
        assert doc.warnings == [], doc.doc_id


@pytest.mark.parametrize("doc_id", list(EXPECTED))
def test_inventory(corpus, doc_id):
    doc = corpus.doc(doc_id)
    for label in EXPECTED[doc_id]:
        assert label in doc.by_label, label


def test_gxas_has_every_clause_from_6_1_1_1_to_11_2_exactly_once(corpus):
    doc = corpus.doc("gxas-1220-2026")
    numbered = [u.label for u in doc.units if re.fullmatch(r"\d+(\.\d+)+", u.label)]
    assert len(numbered) == len(set(numbered))
    assert numbered[numbered.index("6.1.1.1"):][-1] == "11.2"
    # the 目次 repeats "6.4 品牌发布与保护 5": it must not create a second 6.4
    six_four = doc.by_label["6.4"]
    assert six_four.title == "品牌发布与保护" and six_four.line_start == 355
    # dash-prefixed clause numbers in the source
    assert doc.by_label["6.4.3"].text.startswith("应推动商标专利注册")
    assert doc.by_label["6.4.4 b)"].parent == "6.4.4"


@pytest.mark.parametrize("doc_id", list(EXPECTED))
def test_labels_unique(corpus, doc_id):
    labels = [u.label for u in corpus.doc(doc_id).units]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("doc_id", list(EXPECTED))
def test_nothing_lost_every_nonblank_line_in_exactly_one_unit(corpus, doc_id):
    doc = corpus.doc(doc_id)
    nonblank = {i for i, line in enumerate(doc.source_lines, 1) if line.strip()}
    owned: dict[int, str] = {}
    for u in doc.units:
        for n in u.lines:
            assert n not in owned, f"line {n} in both {owned[n]} and {u.label}"
            owned[n] = u.label
    skipped = {s.line: s.reason for s in doc.skipped}
    assert not set(owned) & set(skipped)
    assert set(owned) | set(skipped) == nonblank
    # only front/back matter and markup are skipped, never body text
    assert set(skipped.values()) <= {"toc", "page-break", "doc-title", "back-cover", "stray-dash"}
    first_body_line = min(n for u in doc.units if u.kind != "cover" for n in u.lines)
    for n, reason in skipped.items():
        if reason == "toc":
            assert n < first_body_line
    cover = doc.by_label.get("封面")
    if doc.spec.is_standard:  # the cover page is one citable unit, before everything else
        assert cover is not None and cover.kind == "cover" and max(cover.lines) < first_body_line
        assert doc.spec.code.split("（")[0].replace("XXXXX", "") in cover.text.replace("XXXXX", "")


@pytest.mark.parametrize("doc_id", list(EXPECTED))
def test_every_unit_text_is_verbatim_from_its_source_lines(corpus, doc_id):
    doc = corpus.doc(doc_id)
    for u in doc.units:
        own = compact("".join(doc.source_lines[n - 1] for n in u.lines))
        own = own.replace("**", "").replace("#", "")
        # each line of the text (and the title) is verbatim from the unit's own lines;
        # only whitespace, list dashes and Markdown markup may differ
        # (a table row's title is the category carried down from the rows above it; 封面 is
        # a positional title)
        title = None if u.kind in ("table-row", "cover") else u.title
        for part in filter(None, [title, *u.text.split("\n")]):
            assert compact(part) in own, (u.label, part)


def test_strength_is_per_unit(corpus):
    gx = corpus.doc("gxas-1220-2026")
    assert gx.find("6.4.4").strength == "should"
    assert gx.find("6.4.4 b)").strength == "shall"
    assert gx.find("6.4.4 a)").strength == "should" and gx.find("6.4.4 a)").strength_inherited
    assert gx.find("6.1.2.4 f)").strength == "shall"
    assert gx.find("6.1.2.2.1").strength == "may"
    assert corpus.clause("hzas-8-2020", "5.2").strength == "shall-not"


def test_owner_roles(corpus):
    gx = corpus.doc("gxas-1220-2026")
    for u in [gx.find("6.1.2.2")] + gx.descendants(gx.find("6.1.2.2")):
        assert "行业社会组织" in u.owner_roles, u.label
    gbt = corpus.doc("gbt-cluster-draft")
    assert "产业主管部门" in gbt.find("4.2.1 e)").owner_roles
    assert "品牌授权企业" in gbt.find("4.2.3").roles
    assert "指导站" in corpus.clause("hzas-8-2020", "7.4.3").roles


def test_phases(corpus):
    gx = corpus.doc("gxas-1220-2026")
    assert gx.find("6.4.4 b)").phases == ["初创构建期"]
    assert gx.find("7.3.2").phases == ["成长扩张期"]
    assert gx.find("8.1").phases == ["成熟稳定期"]
    assert gx.find("9.1.4").phases == ["更新升级期"]
    assert set(gx.find("11.1 b)").phases) == {"初创构建期", "成长扩张期", "成熟稳定期", "更新升级期"}
    guide = corpus.doc("miit-pilot-guide")
    assert "申报" in guide.find("二、（一）").phases
    assert "示范申报" in guide.find("四、（六）").phases
    assert "总结评价" in corpus.clause("miit-pilot-evaluation", "附件2 一、（一）1.").phases
    assert corpus.clause("gbt-cluster-draft", "7.4.3").phases == []  # no phase stated: untagged


def test_heading_path_and_references(corpus):
    gx = corpus.doc("gxas-1220-2026")
    assert gx.find("6.4.4").heading_path == "6 初创构建期通用服务 > 6.4 品牌发布与保护"
    assert "GB/T 39064" in gx.find("2").references
    assert corpus.clause("miit-pilot-guide", "三、（五）").heading_path == "三、试点工作内容"


def test_forms_and_tables_are_citable_and_searchable(corpus):
    hz = corpus.doc("hzas-8-2020")
    table = hz.find("表A.1")
    assert table.kind == "form" and table.parent == "附录A"
    rows = hz.children(table)
    assert len(rows) > 50
    assert any("CCC 认证" in r.text for r in rows)
    assert any(r.title == "产品认证" and r.text == "有机产品认证" for r in rows)
    ev = corpus.doc("miit-pilot-evaluation")
    field = ev.find("附件1 第一部分 区域品牌集体商标")
    assert field.kind == "form" and "□尚未启动申请工作" in field.text
    assert ev.find("附件1 第一部分 企业数（个）").kind == "table-row"
    assert "（限500字）" in ev.find("附件3 申请表").text


def test_label_lookup_is_tolerant_and_errors_list_near_matches(corpus):
    assert corpus.clause("miit-pilot-guide", "三（五）").label == "三、（五）"
    assert corpus.clause("gxas-1220-2026", "6.4.4b)").label == "6.4.4 b)"
    with pytest.raises(UnknownClauseError) as exc:
        corpus.clause("gxas-1220-2026", "6.4.9")
    assert "6.4.4" in exc.value.near
    with pytest.raises(UnknownDocumentError) as exc2:
        corpus.clause("no-such-doc", "1")
    assert "gxas-1220-2026" in exc2.value.valid


def test_full_text_includes_items(corpus):
    gx = corpus.doc("gxas-1220-2026")
    full = gx.full_text(gx.find("6.4.4"))
    assert full.startswith("宜建立区域公用品牌快速维权中心") and "b) 应统一建立消费者投诉与侵权举报平台" in full
