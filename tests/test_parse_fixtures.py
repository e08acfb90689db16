"""Parser behaviour on small hand-made fixtures, one mess at a time."""

from __future__ import annotations

from assistant.corpus.manifest import DocumentSpec
from assistant.corpus.parse import compact, label_key, parse_document

STD = DocumentSpec(doc_id="t-std", file="t.txt", title="测试标准", code="T/TEST 1—2026", kind="团体标准")
MD = DocumentSpec(doc_id="t-md", file="t.md", title="测试草案", code="GB/T X", kind="国家标准（征求意见稿）")
NOTICE = DocumentSpec(doc_id="t-notice", file="n.txt", title="测试通知", kind="政策文件", issuer="某某司")


def labels(result):
    return [u.label for u in result.units]


def by_label(result):
    return {u.label: u for u in result.units}


def test_toc_lines_are_not_clauses_and_labels_are_unique():
    text = "封面\n\n目 次\n\n前言 II\n\n1 范围 1\n\n 1.1 总则 1\n\n前 言\n\n本文件起草。\n\n1 范围\n\n1.1 总则\n\n正文。\n"
    r = parse_document(STD, text)
    assert labels(r) == ["封面", "前言", "1", "1.1"]  # the cover page is one unit
    assert {s.reason for s in r.skipped} == {"toc"}
    assert by_label(r)["1.1"].title == "总则"
    assert by_label(r)["1.1"].text == "正文。"


def test_dash_prefixed_clause_numbers_items_subitems_and_notes():
    text = (
        "1 范围\n\n本文件规定。\n\n2 要求\n\n"
        "- 2.1 宜建立维权中心。服务包括：\n- a) 建立体系；\n - b) 应统一建立举报平台；\n"
        " - 1) 第一项；\n - 2) 第二项。\n\n注：资源通常包括人力资源、品牌识\n\n别系统等。\n"
    )
    r = parse_document(STD, text)
    u = by_label(r)
    assert ["2.1", "2.1 a)", "2.1 b)", "2.1 b) 1)", "2.1 b) 2)", "2.1 注"] == labels(r)[2:]
    assert u["2.1 b) 1)"].parent == "2.1 b)"
    assert u["2.1 注"].parent == "2.1"  # a note after items belongs to the clause
    assert u["2.1 注"].text == "注：资源通常包括人力资源、品牌识别系统等。"  # broken word joined
    assert u["2.1 注"].lines == [13, 15]


def test_markdown_page_break_inside_a_sentence_is_joined_and_dash_bullets_stay_at_clause_level():
    text = (
        "# 目 次\n\n前 言.....\t错误！未定义书签。\n1 范围.....\t3\n\n---\n\n## 前 言\n\n起草。\n\n"
        "## 1 范围\n\n本标准规定。\n\n### 1.1 人力资源\n\n培育主体需要促进人才集聚到区域，为集\n\n---\n\n"
        "群品牌的发展提供人力资本。\n\n1.1.1 原则如下：\n\n- 充分体现特色；\n- 简洁明快。\n"
    )
    r = parse_document(MD, text)
    u = by_label(r)
    assert u["1.1"].text == "培育主体需要促进人才集聚到区域，为集群品牌的发展提供人力资本。"
    assert u["1.1.1"].text == "原则如下：\n充分体现特色；\n简洁明快。"
    assert "page-break" in {s.reason for s in r.skipped}
    assert not any(x.startswith("1 范围") for x in labels(r))


def test_notice_numbering_missing_heading_attachments_and_status_form():
    text = (
        "附件：\n的材料，申请评价。\n（二）评审\n专家评审。\n三、工作要求\n（一）各单位要做好。\n某某司\n\n"
        "附件1\n\n试点\n工作总结报告\n单位：（公章）\n第一部分  总体推进情况\n\t总体进度\n\t□完成   □推进\n"
        "\t建设情况\n\t集体商标\n\t□已注册    □正在申请\n\n第二部分  总结\n一、综述\n简要描述。\n"
        "附件2\n\n评价说明\n一、资料评审\n（一）完成情况\n1.工作项目完成情况（40分）。对照方案评估。\n"
    )
    r = parse_document(NOTICE, text)
    u = by_label(r)
    assert u["二、"].inferred and u["二、（一）"].inferred
    assert u["二、（二）"].parent == "二、"
    assert u["落款"].text == "某某司"
    assert u["附件1"].title == "试点工作总结报告"
    assert u["附件1 第一部分 集体商标"].text == "□已注册 □正在申请"
    assert u["附件1 第一部分 集体商标"].parent == "附件1 第一部分 建设情况"
    assert u["附件1 一、"].title == "综述"
    item = u["附件2 一、（一）1."]
    assert item.title == "工作项目完成情况（40分）"
    assert "（40分）" in item.text


def test_every_unit_text_is_verbatim_from_its_own_lines():
    text = "1 范围\n\n本文件规定了要求，\n适用于服务。\n\n2 要求\n\n2.1 应建立体系。\n- a) 宜开展评价；\n"
    r = parse_document(STD, text)
    src = text.splitlines()
    for unit in r.units:
        own = compact("".join(src[n - 1] for n in unit.lines)).replace("-", "")
        assert compact(unit.text).replace("-", "") in own


def test_label_key_tolerates_spacing_and_punctuation_variants():
    assert label_key("三（五）") == label_key("三、（五）")
    assert label_key("6.4.4b)") == label_key("6.4.4 b)")
    assert label_key("附件2 一、(一)1.") == label_key("附件2 一、（一）1.")
    assert label_key("6.4.4") != label_key("6.4.4 b)")
