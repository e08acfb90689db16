"""Issue 15 in a real browser (Debian Chromium via selenium), at 1440×900 and 390×844: a
filter that empties the result and its hint, 👎 on a 无依据 answer, no English on any page,
the widget from another origin, and a pair curated in the admin page answering the next
identical question. Screenshots go to test-artifacts/ (listed in the closing report).
(integration)"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser import (
    chromium_paths,
    corpus_words,
    english,
    make_browser,
    settle,
    shot,
    start_ui,
    wait_text,
)
from tests.conftest import free_port, start_serve, stop_process, wait_for_http

pytestmark = pytest.mark.integration
SIZES = ["desktop", "phone"]
ADMIN_KEY = "admin-key-for-tests"
WIDGET_KEY = "wk-portal-test"


@pytest.fixture(scope="module")
def ui(real_index, real_settings, tmp_path_factory):
    """The UI as `make run` starts it (brand-assistant ui), on the real default index, with
    its own data and curated directories and an admin key."""
    chromium_paths()
    tmp = tmp_path_factory.mktemp("ui-browser")
    env = {"BA_CORPUS_DIR": str(real_settings.corpus_dir), "BA_INDEX_DIR": str(real_settings.index_dir),
           "BA_DATA_DIR": str(tmp / "data"), "BA_CURATED_DIR": str(tmp / "curated"), "BA_ADMIN_KEYS": ADMIN_KEY,
           "BA_OPEN_MODE": "1"}
    proc, url = start_ui(env)
    yield {"url": url, "data": tmp / "data", "curated": tmp / "curated"}
    stop_process(proc)


@pytest.fixture(scope="module")
def allowed(corpus):
    return corpus_words(corpus)


def by_text(browser, text: str, seconds: float = 30):
    """The visible clickable element (button, tab, option) whose text contains `text`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = (f"//*[self::button or self::a or self::summary or @role='tab' or @role='radio' or @role='option']"
             f"[contains(normalize-space(.), '{text}')]")

    def find(b):
        for e in b.find_elements(By.XPATH, xpath):
            if e.is_displayed():
                return e
        return False

    return WebDriverWait(browser, seconds, poll_frequency=0.25).until(find)


def click(browser, text: str, seconds: float = 30) -> None:
    e = by_text(browser, text, seconds)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
    e.click()
    settle(browser)


def open_page(browser, url: str, marker: str) -> None:
    browser.get(url)
    wait_text(browser, marker, 180)
    settle(browser)


def ask(browser, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(browser, 180).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "textarea[data-testid='stChatInputTextArea']"))
    n = len(browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']"))
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 120, poll_frequency=0.25).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")) >= n + 2)
    settle(browser)


def answers_after(browser, action) -> None:
    """Run action (a click that asks a question) and wait for its answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    n = len(browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']"))
    action()
    WebDriverWait(browser, 120, poll_frequency=0.25).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")) >= n + 2)
    settle(browser)


def shot_of(browser, name: str, text: str) -> None:
    """A screenshot with the element holding `text` at the top of the view."""
    from selenium.webdriver.common.by import By

    hits = [e for e in browser.find_elements(By.XPATH, f"//*[contains(text(), '{text}')]") if e.is_displayed()]
    if hits:
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -60);", hits[-1])
        for el in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMain'], section.main"):
            browser.execute_script("arguments[0].scrollTop = arguments[0].scrollTop - 60", el)
        time.sleep(0.3)
    shot(browser, name)


def last_answer_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1].text


@pytest.mark.parametrize("size", SIZES)
def test_a_filter_that_empties_the_result_says_so_and_offers_the_unfiltered_answer(ui, size):
    b = make_browser(size, f"hint-{size}")
    try:
        open_page(b, ui["url"] + "/?doc=gxas-1220-2026", "区域品牌培育问答助手")
        wait_text(b, "文件：T/GXAS 1220—2026", 30)  # the active filter, as a chip (drawn after the header)
        ask(b, "典型经验字数要求")
        text = last_answer_text(b)
        assert "在所选文件（T/GXAS 1220—2026）中未找到" in text and "在全部文件中有" in text
        assert "附件3 二、" in text  # where the answer is, named in the hint
        shot_of(b, f"ui-filter-hint-{size}", "典型经验字数要求")
        answers_after(b, lambda: click(b, "查看不加筛选的答复"))
        text = last_answer_text(b)
        assert "〔产业集群区域品牌建设试点工作总结报告、评价说明及评价申请书 附件3 二、〕" in text
        assert "本答复按筛选作答" not in text  # asked again without the filter
        assert "文件：T/GXAS 1220—2026" not in b.find_element("tag name", "body").text  # the chip is gone
        shot_of(b, f"ui-filter-removed-{size}", "典型经验按以下六部分展开")
    finally:
        b.quit()


@pytest.mark.parametrize("size", SIZES)
def test_thumbs_down_on_a_no_basis_answer_is_recorded_next_to_the_buttons(ui, size):
    from selenium.webdriver.common.by import By

    b = make_browser(size, f"fb-{size}")
    question = {"desktop": "今天天气怎么样", "phone": "明天会下雨吗"}[size]
    try:
        open_page(b, ui["url"] + "/", "区域品牌培育问答助手")
        ask(b, question)
        assert "无依据" in last_answer_text(b)
        msg = b.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1]
        thumbs = msg.find_elements(By.CSS_SELECTOR, "[data-testid='stFeedback'] button")
        assert len(thumbs) == 2
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumbs[1])
        thumbs[1].click()  # 👎
        wait_text(b, "已记录", 30)
        settle(b)
        msg = b.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1]
        row = msg.find_element(By.CSS_SELECTOR, "[data-testid='stFeedback']").find_element(By.XPATH, "./../..")
        assert "已记录" in row.text  # the confirmation sits in the row of the buttons
        fb = msg.find_element(By.CSS_SELECTOR, "[data-testid='stFeedback']").rect
        ok = next(e for e in msg.find_elements(By.CSS_SELECTOR, "[data-testid='stAlert']") if "已记录" in e.text).rect
        assert abs(ok["y"] - fb["y"]) < 120 and ok["y"] + ok["height"] <= b.execute_script("return innerHeight") + 5
        shot(b, f"ui-feedback-no-basis-{size}")
    finally:
        b.quit()
    with sqlite3.connect(ui["data"] / "sessions.sqlite3") as db:
        rows = db.execute("SELECT f.rating, t.question FROM feedback f JOIN turns t ON t.session_id = f.session_id "
                          "AND t.turn = f.turn").fetchall()
    assert (-1, question) in rows


def test_a_cold_start_says_so_in_chinese(real_settings, tmp_path):
    """Without the start-up warm-up (streamlit run ui/app.py), the first visitor waits for the
    index: a Chinese loading line, no running man, no Stop."""
    chromium_paths()
    env = {"BA_CORPUS_DIR": str(real_settings.corpus_dir), "BA_INDEX_DIR": str(real_settings.index_dir),
           "BA_DATA_DIR": str(tmp_path / "data"), "BA_CURATED_DIR": str(tmp_path / "curated")}
    proc, url = start_ui(env, warm=False)
    b = make_browser("desktop", "cold")
    try:
        b.get(url + "/")
        wait_text(b, "正在加载索引", 60)
        assert english(b, set()) == []  # nothing Latin at all on the page while it loads
        shot(b, "ui-cold-load-desktop")
        wait_text(b, "区域品牌培育问答助手", 180)
    finally:
        b.quit()
        stop_process(proc)


PAGES = [("chat", "/", "区域品牌培育问答助手"), ("browse", "/browse", "条款浏览"), ("report", "/report", "生成草稿"),
         ("admin", "/admin", "管理员密钥")]


@pytest.mark.parametrize("size", SIZES)
def test_no_english_on_any_page(ui, size, allowed):
    """The rendered text (and title/placeholder attributes) of every page and state a user
    meets, against the Latin words the documents themselves use (GB, NQI, ISO…)."""
    b = make_browser(size, f"en-{size}")
    found = {}
    try:
        open_page(b, ui["url"] + "/", "区域品牌培育问答助手")
        found["chat-empty"] = english(b, allowed)
        ask(b, "怎么打假")
        for label in ("引用原文与出处", "同条其他要求"):
            click(b, label)
        found["chat-answer"] = english(b, allowed)
        shot(b, f"ui-chat-{size}")
        for name, path, marker in PAGES[1:]:
            open_page(b, ui["url"] + path, marker)
            found[name] = english(b, allowed)
            shot(b, f"ui-{name}-{size}")
        open_page(b, ui["url"] + "/browse", "条款浏览")
        click(b, "查找")
        from selenium.webdriver.common.keys import Keys

        box = b.find_element("css selector", "input[type='text']")
        box.send_keys("授权")
        box.send_keys(Keys.ENTER)
        wait_text(b, "找到", 30)
        settle(b)
        found["browse-search"] = english(b, allowed)
        shot(b, f"ui-browse-search-{size}")
        click(b, "角色 × 阶段")
        found["browse-matrix"] = english(b, allowed)
        shot(b, f"ui-browse-matrix-{size}")
        if size == "phone":  # the sidebar (filters, examples) opens over the chat
            open_page(b, ui["url"] + "/", "区域品牌培育问答助手")
            opener = b.find_elements("css selector", "[data-testid='stExpandSidebarButton'], "
                                                     "[data-testid='stSidebarCollapsedControl'] button")
            b.execute_script("arguments[0].click()", opener[0])
            time.sleep(1)
            settle(b)
            found["chat-sidebar"] = english(b, allowed)
            shot(b, f"ui-chat-sidebar-{size}")
    finally:
        b.quit()
    assert not any(found.values()), found


def _portal(html: str):
    """A page of another site (another port): serves `html` at /."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            data = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


PORTAL = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>某市人民政府门户网站</title></head>
<body style="font-family: 'Noto Sans CJK SC', sans-serif; margin: 24px"><h1>某市人民政府门户网站</h1>
<p>政务服务　·　区域品牌建设　·　政策文件</p>
<script src="{api}/widget.js" data-key="{key}" async></script></body></html>"""


@pytest.fixture(scope="module")
def widget_api(real_settings, tmp_path_factory):
    """The API (brand-assistant serve) with a widget key for one portal origin, and two
    portals: the listed one and another one."""
    chromium_paths()
    tmp = tmp_path_factory.mktemp("widget")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    listed = _portal(PORTAL.format(api=api, key=WIDGET_KEY))
    other = _portal(PORTAL.format(api=api, key=WIDGET_KEY))
    env = {"BA_CORPUS_DIR": str(real_settings.corpus_dir), "BA_INDEX_DIR": str(real_settings.index_dir),
           "BA_DATA_DIR": str(tmp / "data"), "BA_CURATED_DIR": str(tmp / "curated"), "BA_API_KEYS": "full-key",
           "BA_WIDGET_KEYS": json.dumps({WIDGET_KEY: [listed[1]]}), "BA_ACCESS_LOG": "0"}
    proc = start_serve(env, port)
    try:
        assert wait_for_http(f"{api}/readyz", 180), stop_process(proc)
        yield {"api": api, "portal": listed[1], "other": other[1]}
    finally:
        stop_process(proc)
        listed[0].shutdown()
        other[0].shutdown()


@pytest.mark.parametrize("size", SIZES)
def test_widget_from_another_origin_gives_a_cited_answer(widget_api, size, allowed):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    b = make_browser(size, f"widget-{size}")
    try:
        b.get(widget_api["portal"])
        click(b, "标准问答")
        frame = WebDriverWait(b, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, "iframe[data-brand-assistant]"))
        b.switch_to.frame(frame)
        box = WebDriverWait(b, 30).until(lambda x: x.find_element(By.ID, "wg-input"))
        box.send_keys("怎么打假")
        box.send_keys(Keys.ENTER)
        cite = WebDriverWait(b, 120).until(lambda x: x.find_element(By.CSS_SELECTOR, ".wg-bot .wg-cite"))
        assert cite.text.startswith("〔T/GXAS 1220—2026 6.4.4")
        text = b.find_element(By.ID, "wg-log").text
        assert "根据《区域公用品牌培育服务规范》" in text and "无依据" not in text
        assert english(b, allowed) == []
        b.switch_to.default_content()
        shot(b, f"widget-answer-{size}")
        b.switch_to.frame(frame)
        cited = cite.text
        cite.click()  # the citation opens its clause
        WebDriverWait(b, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, "#wg-clause-text mark"))
        assert b.find_element(By.ID, "wg-clause-cite").text == cited
        b.switch_to.default_content()
        shot(b, f"widget-clause-{size}")
        # a site that is not on the key's list: no chat, a Chinese explanation instead of the
        # browser's blank refused frame
        b.get(widget_api["other"])
        click(b, "标准问答")
        note = WebDriverWait(b, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, "[data-brand-assistant=refused]"))
        assert note.text.startswith("问答挂件无法在本网站显示")
        assert not b.find_elements(By.CSS_SELECTOR, "iframe[data-brand-assistant]")
        assert english(b, allowed) == []
        shot(b, f"widget-refused-{size}")
        # and framing /widget directly from that site is still refused by the browser
        b.execute_script("var f = document.createElement('iframe'); f.id = 'direct'; f.src = arguments[0];"
                         "document.body.appendChild(f);", widget_api["api"] + "/widget?key=" + WIDGET_KEY)
        time.sleep(2)
        b.switch_to.frame(b.find_element(By.ID, "direct"))
        assert not b.find_elements(By.ID, "wg-input")
        b.switch_to.default_content()
    finally:
        b.quit()


@pytest.mark.parametrize("size", SIZES)
def test_a_pair_curated_in_the_admin_page_answers_the_next_identical_question(ui, size, allowed):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # both answered wrongly before the correction (典型经验's 3000–5000 字; T/GXAS 11.1 f)
    question = {"desktop": "自评部分写多少字", "phone": "自我评价能写多少字"}[size]
    unit = ("附件3 申请表", "限500字")
    b = make_browser(size, f"admin-{size}")
    try:
        # an answer rated 👎
        open_page(b, ui["url"] + "/", "区域品牌培育问答助手")
        ask(b, question)
        assert "附件3 申请表〕" not in last_answer_text(b)
        msg = b.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1]
        down = msg.find_elements(By.CSS_SELECTOR, "[data-testid='stFeedback'] button")[1]
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", down)
        down.click()
        wait_text(b, "已记录", 30)
        # the admin page: log in, the 👎 list, correct it
        open_page(b, ui["url"] + "/admin", "管理员密钥")
        key = b.find_element(By.CSS_SELECTOR, "input[type='password']")
        key.send_keys(ADMIN_KEY)
        click(b, "进入管理")
        wait_text(b, question, 60)
        assert english(b, allowed) == []
        shot(b, f"admin-feedback-{size}")
        click(b, "纠正此答复")  # the newest 👎 comes first: this one
        wait_text(b, "新建纠正", 30)
        assert b.find_element(By.CSS_SELECTOR, "input[aria-label='问题']").get_attribute("value") == question
        click(b, "查找")
        box = next(e for e in b.find_elements(By.CSS_SELECTOR, "input[type='text']")
                   if "授权" in (e.get_attribute("placeholder") or ""))
        box.send_keys(unit[0])
        box.send_keys(Keys.ENTER)
        wait_text(b, "找到", 30)
        settle(b)
        wait_text(b, f"评价申请书 {unit[0]}〕", 30)  # the first hit is shown
        click(b, "选为正确条款")
        wait_text(b, "已选为正确条款", 30)
        assert english(b, allowed) == []
        shot_of(b, f"admin-picked-{size}", "新建纠正")
        click(b, "保存纠正")
        wait_text(b, "已保存纠正", 30)
        shot_of(b, f"admin-saved-{size}", "已保存纠正")
        # the next identical question is answered with that unit
        open_page(b, ui["url"] + "/", "区域品牌培育问答助手")
        ask(b, question)
        text = last_answer_text(b)
        assert "本答复采用了管理员核定的条款" in text
        first = text.split("〔", 1)[1].split("〕", 1)[0]
        assert first.endswith(unit[0]), text
        assert unit[1] in text
        shot_of(b, f"ui-curated-answer-{size}", question)
    finally:
        b.quit()
    rows = [json.loads(x) for x in (ui["curated"] / "admin.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(r["question"] == question and r["units"][0][1] == unit[0] and r["source"].get("turn") for r in rows)
