from __future__ import annotations

import pytest

from assistant.corpus.tag import cited_standards, detect_strength


@pytest.mark.parametrize(
    "text,expected",
    [
        ("应建立诚信合规内部管控体系", "shall"),
        ("宜建立区域公用品牌快速维权中心，监控", "should"),
        ("必要时，可引进专业品牌技术服务机构", "may"),
        ("不应列入红盾品牌培育事项的包括：", "shall-not"),
        ("建立品牌保护与发展体系，保障品牌运营安全稳定；", None),
        ("产量能通过建设形成一定规模,可满足较大范围的市场需求", None),  # descriptive 可
        ("运用相应的技术，响应需求，实现可持续发展", None),  # 应/可 inside other words
        ("应建立健全公共服务平台，宜利用现代信息技术", "shall"),  # first modal decides
        # 应对 is "cope with" unless it is the modal 应 + 对 + object + a verb of doing
        ("培育主体应对传播效果进行评价，并对传播内容进行改进", "shall"),
        ("协调各方应对品牌危机；", None),
        ("建立健全各类风险应对敏捷工具", None),
        # 可 right after a condition is a permission, not a description
        ("对完成试点任务的单位，如在试点过程中取得经验，可向工业和信息化部申报示范区", "may"),
        ("主要核心技术拥有自主知识产权，需要时间", None),  # 主要/需要 are not modals
    ],
)
def test_detect_strength(vocab, text, expected):
    assert detect_strength(text, vocab.modals) == expected


def test_notice_modals_count_only_in_notices(vocab):
    text = "各省工业和信息化主管部门要加强监督管理，及时将有关情况报工业和信息化部科技司。"
    assert detect_strength(text, vocab.modals, "ministry-notice") == "shall"
    assert detect_strength(text, vocab.modals, "group-standard") is None  # 要 is not a standard's modal
    assert detect_strength("不得弄虚作假", vocab.modals, "ministry-notice") == "shall-not"


def test_items_take_the_strength_of_the_sentence_that_introduces_them(corpus):
    gx = corpus.doc("gxas-1220-2026")
    # 11.1 b) starts with 应, but its list is introduced by "…关键绩效指标宜包括但不限于下列要求"
    assert gx.find("11.1 b)").strength == "shall"
    for i in range(1, 6):
        item = gx.find(f"11.1 b) {i})")
        assert item.strength == "should" and item.strength_inherited
    assert corpus.clause("gbt-cluster-draft", "8.2.6").strength == "shall"  # 应对…进行评价
    assert corpus.clause("miit-pilot-guide", "五、（一）").strength == "shall"  # 要加强监督管理


def test_cited_standards():
    assert cited_standards("GB/T 29185、GB/T 39064 界定的") == ["GB/T 29185", "GB/T 39064"]
    assert cited_standards("[来源:GB/T 39064-2020, 3.3, 有修改]") == ["GB/T 39064"]


def test_role_matcher_longest_first_and_ignore(vocab):
    m = vocab.matcher("role", "mentions")
    assert m.ids("省级工业和信息化主管部门要加强监督") == ["省级主管部门"]
    assert m.ids("品牌培育服务机构的主体") == []  # umbrella term, not a role
    assert m.ids("引导企业培育中国政府质量奖") == []  # an award, not the government
    q = vocab.matcher("role", "synonyms")
    assert q.ids("我们是行业协会要做什么") == ["行业社会组织"]
