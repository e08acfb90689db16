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
    ],
)
def test_detect_strength(text, expected):
    assert detect_strength(text) == expected


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
