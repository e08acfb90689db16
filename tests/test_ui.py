"""Streamlit UI: AppTest on the real corpus and model, and one real-browser run. (integration)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.integration
UI = ROOT / "ui"


@pytest.fixture(scope="module")
def ui_env(tmp_path_factory, corpus):
    """A built index and an empty data dir for the UI, via the same env vars a deployment uses."""
    from assistant.index.embeddings import make_embedding
    from assistant.index.store import build_index
    from assistant.settings import Settings, get_settings

    tmp = tmp_path_factory.mktemp("ui")
    env = {"BA_INDEX_DIR": str(tmp / "index"), "BA_DATA_DIR": str(tmp / "data"), "BA_CORPUS_DIR": str(CORPUS),
           "BA_CURATED_DIR": str(tmp / "curated")}
    settings = Settings(**{k[3:].lower(): v for k, v in env.items()})
    build_index(corpus, settings, make_embedding(settings))  # the default model: the UI opens it as built
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(UI / "app.py"), default_timeout=120)


def test_entry_point_navigation_runs(ui_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(UI / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.title[0].value == "区域品牌培育问答助手"


def cards(at) -> list[str]:
    """The citation cards' titles (inside the folded 引用原文与出处)."""
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**〔")]


def test_question_renders_direct_answer_points_and_folded_details(ui_env):
    at = _app()
    at.run()
    assert not at.exception
    at.chat_input[0].set_value("怎么打假").run()
    assert not at.exception and not at.error
    md = [m.value for m in at.markdown]
    # the direct answer first (bold), then the numbered points with their citations
    direct = next(i for i, m in enumerate(md) if m.startswith("**根据《区域公用品牌培育服务规范》"))
    assert md[direct + 1].startswith("1. ") and "〔T/GXAS 1220—2026 6.4.4" in md[direct + 1]
    labels = [e.label for e in at.expander]
    assert any(lab.startswith("引用原文与出处") for lab in labels)
    assert any(lab.startswith("同条其他要求") for lab in labels)  # the clause's other items, folded
    assert any(c.startswith("〔T/GXAS 1220—2026 6.4.4") for c in cards(at))
    assert len(at.feedback) == 1


def test_filters_change_the_results_and_show_as_removable_chips(ui_env):
    at = _app()
    at.run()
    at.sidebar.multiselect(key="f_docs").set_value(["hzas-8-2020"]).run()
    assert any(b.label.startswith("文件：T/HZAS 8—2020") for b in at.button)
    at.chat_input[0].set_value("怎么打假").run()
    assert cards(at) and all(c.startswith("〔T/HZAS 8—2020") for c in cards(at)), cards(at)
    assert any(c.value.startswith("本答复按筛选作答：文件 T/HZAS 8—2020") for c in at.caption)
    next(b for b in at.button if b.label.startswith("文件：T/HZAS 8—2020")).click().run()
    assert at.sidebar.multiselect(key="f_docs").value == []
    assert not any(b.label.startswith("文件：") for b in at.button)


def test_no_basis_and_partial_states(ui_env):
    at = _app()
    at.run()
    at.chat_input[0].set_value("红烧肉怎么做才能肥而不腻？").run()  # nothing in the documents
    assert any("无依据" in w.value for w in at.warning)
    assert any("相近的内容" in m.value for m in at.markdown)
    # near the documents, but the asked detail is not in them: said first, provisions shown
    at.chat_input[0].set_value("企业所得税优惠税率是多少？").run()
    assert any("部分依据：现有文件没有写明具体" in i.value for i in at.info)


def test_a_filter_that_leaves_a_weaker_answer_offers_the_unfiltered_one(ui_env):
    at = _app()
    at.run()
    at.sidebar.multiselect(key="f_docs").set_value(["gxas-1220-2026"]).run()
    at.chat_input[0].set_value("典型经验字数要求").run()
    hint = next(m.value for m in at.markdown if "在所选文件" in m.value)
    assert hint == "**在所选文件（T/GXAS 1220—2026）中未找到明确规定；在全部文件中有：**"
    assert any("附件3 二、〕" in m.value and "3000-5000字" in m.value for m in at.markdown)
    assert any(e.label == "所选范围内最接近的规定" for e in at.expander)  # the filtered answer, folded
    next(b for b in at.button if b.label == "查看不加筛选的答复").click().run()
    assert at.sidebar.multiselect(key="f_docs").value == []
    assert len(at.chat_message) == 4
    assert any(c.startswith("〔产业集群区域品牌建设试点工作总结报告、评价说明及评价申请书 附件3 二、") for c in cards(at))


def test_a_role_and_phase_steer_a_topical_question_and_the_strength_filter_hides_points(ui_env):
    at = _app()
    at.run()
    at.sidebar.selectbox(key="f_role").set_value("行业社会组织")
    at.sidebar.selectbox(key="f_phase").set_value("成长扩张期").run()
    at.chat_input[0].set_value("品牌授权怎么管理？").run()
    points = next(m.value for m in at.markdown if m.value.startswith("1. "))
    assert "〔T/GXAS 1220—2026 6.4.1 b)〕" in points  # the topic (授权管理), not the role's generic duties
    at.sidebar.multiselect(key="f_strength").set_value(["may"]).run()
    assert not any(m.value.startswith("1. ") and "6.4.1 b)〕" in m.value for m in at.markdown)
    assert any(c.value.startswith("按强度筛选后显示") for c in at.caption)


def test_unanswerable_question_shows_no_basis_state_and_can_be_rated(ui_env):
    at = _app()
    at.run()
    at.chat_input[0].set_value("今天天气怎么样").run()
    assert any("无依据" in w.value for w in at.warning)
    assert any("相近的内容" in m.value for m in at.markdown)
    assert len(at.feedback) == 1  # 无依据 answers are rated too
    key = at.feedback[0].key
    at.feedback[0].set_value(0).run()  # 👎, recorded at once
    assert any(s.value.startswith("已记录") for s in at.success)
    at.text_input(key=key + "-c").set_value("应当说明天气不在文件范围内")
    next(b for b in at.button if b.label == "提交意见").click().run()
    assert any(s.value == "意见已记录，谢谢！" for s in at.success)


def test_bad_input_gets_a_chinese_message_and_the_question_stays(ui_env):
    at = _app()
    at.run()
    long_q = "品牌" * 1100
    at.chat_input[0].set_value(long_q).run()
    assert any("过长" in e.value for e in at.error)
    assert any(m.value == long_q for m in at.markdown)  # what the user typed is still on screen


def test_an_answer_the_session_store_could_not_keep_says_so(ui_env):
    """Issue 13: a read-only data dir — the question is still answered, the page says the
    turn was not saved and offers no feedback on it."""
    from tests.conftest import read_only

    data = Path(ui_env["BA_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    at = _app()
    at.run()
    at.chat_input[0].set_value("国际化怎么做").run()
    assert len(at.feedback) == 1  # a stored answer can be rated
    at = _app()
    at.run()
    import gc

    gc.collect()  # SQLite connections of finished script threads: closed before the files turn immutable
    with read_only(data):
        at.chat_input[0].set_value("怎么打假").run()
    assert not at.exception
    assert any("会话存储暂不可用" in i.value for i in at.info)
    assert any(c.startswith("〔T/GXAS 1220—2026 6.4.4") for c in cards(at))  # answered all the same
    assert len(at.feedback) == 0  # no 👍/👎 on a turn that was not stored


def test_clause_browser_tree_search_and_matrix(ui_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(UI / "browse.py"), default_timeout=120)
    at.query_params["doc"] = "gxas-1220-2026"
    at.query_params["label"] = "6.4.4"
    at.run()
    assert not at.exception

    def shown() -> str:
        return next(m.value for m in at.markdown if m.value.startswith("#### 〔"))[5:]

    assert shown() == "〔T/GXAS 1220—2026 6.4.4〕"
    # the tree is open down to the unit, each node a button
    keys = [b.key for b in at.button]
    assert "browse_t-gxas-1220-2026-6" in keys and "browse_t-gxas-1220-2026-6.4.4" in keys
    next(b for b in at.button if b.label.startswith("⬆ 上级")).click().run()
    assert shown() == "〔T/GXAS 1220—2026 6.4〕"
    next(b for b in at.button if b.key == "browse_t-gxas-1220-2026-7").click().run()  # a chapter opens
    assert any(b.key == "browse_t-gxas-1220-2026-7.1" for b in at.button)
    # search: the hits are buttons with the match marked; the first hit is shown, not the old unit
    at.segmented_control(key="browse_view").set_value("search").run()
    at.text_input(key="browse_q").set_value("授权").run()
    hits = [b for b in at.button if b.key and b.key.startswith("browse_h-")]
    # the match highlighted; on the selected hit (white on the primary colour) in bold only,
    # where a light highlight hid it (seen in the browser screenshot)
    chosen = [b for b in hits if b.proto.type == "primary"]
    assert len(chosen) == 1 and "**授权**" in chosen[0].label and "orange-background" not in chosen[0].label
    assert all(":orange-background[**授权**]" in b.label for b in hits if b not in chosen)
    assert any(c.value.startswith(f"找到 {len(hits)} 个单元") for c in at.caption) or len(hits) == 60
    first = hits[0].key.split("-", 1)[1]
    assert shown().endswith(" " + first.split("-", 3)[-1] + "〕") or "授权" in " ".join(m.value for m in at.markdown)
    hits[1].click().run()
    # the matrix: a cell sets the selectors and lists its units as buttons
    at.segmented_control(key="browse_view").set_value("matrix").run()
    next(b for b in at.button if b.key == "browse_mw-行业社会组织-初创构建期").click().run()
    assert at.selectbox(key="browse_m_role").value == "行业社会组织"
    assert at.selectbox(key="browse_m_phase").value == "初创构建期"
    assert any(m.value.startswith("**行业社会组织 × 初创构建期：") for m in at.markdown)
    units = [b for b in at.button if b.key and b.key.startswith("browse_c-")]
    assert units
    units[-1].click().run()
    assert not at.exception


def test_report_page_puts_downloads_and_the_contradiction_first(ui_env):
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import AlertBase

    at = AppTest.from_file(str(UI / "report.py"), default_timeout=120)
    at.run()
    assert not at.exception
    labels = [t.label for t in at.text_area]
    assert "五、（三）技术水平" in labels and "一、综述" in labels  # notes titled by their outline heading
    at.text_input(key="r_unit").set_value("示例市试点办")
    at.selectbox(key="r_s_区域品牌集体商标").set_value("尚未启动申请工作")
    at.text_area(key="r_n_四、").set_value("我市已成功注册区域品牌集体商标。")
    next(b for b in at.button if b.label == "生成草稿").click().run()
    assert not at.exception
    # in page order: the downloads, then the contradiction, then the rest; gaps folded into one box
    order = [(type(e).__name__, e.value) if isinstance(e, AlertBase) else ("DownloadButton", e.proto.label)
             for e in at.main if isinstance(e, AlertBase) or e.type == "download_button"]
    assert [x[1] for x in order[:3]] == ["下载草稿（DOCX）", "下载检查清单（DOCX）", "下载草稿（Markdown）"]
    assert order[3][0] == "Error" and order[3][1].startswith("区域品牌集体商标：状态为「尚未启动申请工作」")
    assert "已注册" in order[3][1]
    alerts = [v for kind, v in order if kind != "DownloadButton"]
    assert all("状态." not in v and "说明." not in v for v in alerts)  # field names in Chinese
    gaps = [v for v in alerts if v.startswith("待补充")]
    assert len(gaps) == 1 and "五、（三）技术水平" in gaps[0] and "主导产业自律公约" in gaps[0]
    # the draft preview holds no citations; the checklist holds them
    md = [m.value for m in at.markdown]
    assert any(m.startswith("# 产业集群区域品牌建设试点工作总结报告") and "〔" not in m for m in md)
    assert any("〔产业集群区域品牌建设试点实施指南 三、（五）〕" in m for m in md)
    # a form without 单位: a Chinese message naming the field, nothing crashes
    at.text_input(key="r_unit").set_value("")
    next(b for b in at.button if b.label == "生成草稿").click().run()
    assert any("「单位」" in e.value for e in at.error)


def test_report_page_application_counts_the_self_assessment(ui_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(UI / "report.py"), default_timeout=120)
    at.run()
    at.radio(key="r_kind").set_value("application").run()
    box = at.text_area(key="r_p_自我评价")
    assert box.label == "试点工作完成情况自我评价（限500字）"
    at.text_input(key="r_unit").set_value("示例市试点办")
    box.set_value("品牌" * 260)
    next(b for b in at.button if b.label == "生成草稿").click().run()
    assert any(e.value.startswith("试点工作完成情况自我评价：520 字；限 500 字") and "超出 20 字" in e.value
               for e in at.error)
