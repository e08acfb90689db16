"""Streamlit UI: AppTest on the real corpus and model, and one real-browser run. (integration)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, free_port, wait_for_http

pytestmark = pytest.mark.integration
UI = ROOT / "ui"


@pytest.fixture(scope="module")
def ui_env(tmp_path_factory, corpus):
    """A built index and an empty data dir for the UI, via the same env vars a deployment uses."""
    from assistant.index.embeddings import USEEmbedding
    from assistant.index.store import build_index
    from assistant.settings import Settings, get_settings

    tmp = tmp_path_factory.mktemp("ui")
    env = {"BA_INDEX_DIR": str(tmp / "index"), "BA_DATA_DIR": str(tmp / "data"), "BA_CORPUS_DIR": str(CORPUS)}
    build_index(corpus, Settings(**{k[3:].lower(): v for k, v in env.items()}), USEEmbedding())
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


def test_question_renders_answer_and_citation_cards(ui_env):
    at = _app()
    at.run()
    assert not at.exception
    at.chat_input[0].set_value("怎么打假").run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert any(lab.startswith("〔T/GXAS 1220—2026 6.4.4") for lab in labels), labels
    assert any("根据《区域公用品牌培育服务规范》" in m.value for m in at.markdown)
    assert any("复制答复" in lab for lab in labels)  # plain-text copy block


def test_filters_change_the_results(ui_env):
    at = _app()
    at.run()
    at.sidebar.multiselect(key="f_docs").set_value(["hzas-8-2020"]).run()
    at.chat_input[0].set_value("怎么打假").run()
    cites = [e.label for e in at.expander if e.label.startswith("〔")]
    assert cites and all(c.startswith("〔T/HZAS 8—2020") for c in cites), cites


def test_no_basis_and_partial_states(ui_env):
    at = _app()
    at.run()
    at.chat_input[0].set_value("红烧肉怎么做才能肥而不腻？").run()  # nothing in the documents
    assert any("无依据" in w.value for w in at.warning)
    assert any("相近的内容" in m.value for m in at.markdown)
    # near the documents, but the asked detail is not in them: said first, provisions shown
    at.chat_input[0].set_value("企业所得税优惠税率是多少？").run()
    assert any("部分依据：现有文件没有写明具体" in i.value for i in at.info)


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
    with read_only(data):
        at.chat_input[0].set_value("怎么打假").run()
    assert not at.exception
    assert any("会话存储暂不可用" in i.value for i in at.info)
    assert any(e.label.startswith("〔T/GXAS 1220—2026 6.4.4") for e in at.expander)  # answered all the same
    assert len(at.feedback) == 0  # no 👍/👎 on a turn that was not stored


def test_clause_browser_and_role_phase_matrix(ui_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(UI / "browse.py"), default_timeout=120)
    at.query_params["doc"] = "gxas-1220-2026"
    at.query_params["label"] = "6.4.4"
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "〔T/GXAS 1220—2026 6.4.4〕"
    up = next(b for b in at.button if b.label.startswith("⬆ 上级"))
    up.click().run()
    assert at.subheader[0].value == "〔T/GXAS 1220—2026 6.4〕"
    assert len(at.dataframe) == 1
    at.selectbox(key="m_role").set_value("行业社会组织").run()
    at.selectbox(key="m_phase").set_value("初创构建期").run()
    assert any("行业社会组织 × 初创构建期" in m.value for m in at.markdown)


def test_real_browser_asks_and_sees_the_citation(ui_env):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("chromium/chromedriver not installed (scripts/setup.sh installs them with apt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "streamlit"), "run", str(UI / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        env={**os.environ, **ui_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={ROOT / 'test-artifacts' / 'chrome-profile'}"):
        opts.add_argument(flag)
    browser = None
    try:
        # as before: a slow start is left to the browser's own 120 s wait below
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", 60, interval=0.5)
        browser = webdriver.Chrome(service=Service(driver), options=opts)
        browser.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(browser, 120)
        box = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "textarea[data-testid='stChatInputTextArea']"))
        box.send_keys("怎么打假")
        box.send_keys(Keys.ENTER)
        wait.until(lambda b: "〔T/GXAS 1220—2026 6.4.4" in b.page_source)
        out = ROOT / "test-artifacts"
        out.mkdir(exist_ok=True)
        browser.save_screenshot(str(out / "ui-chat.png"))
        assert "无依据" not in browser.page_source
        assert (out / "ui-chat.png").stat().st_size > 10_000
    finally:
        if browser is not None:
            browser.quit()
        server.terminate()
        server.wait(timeout=20)


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
