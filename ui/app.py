"""区域品牌培育问答助手 — Streamlit entry point: `brand-assistant ui` (or `streamlit run ui/app.py`)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="区域品牌培育问答助手", page_icon="📘", layout="wide",
                   menu_items={"Get help": None, "Report a bug": None, "About": None})

import logging  # noqa: E402

from common import chrome  # noqa: E402

chrome()
nav = st.navigation([
    st.Page("chat.py", title="问答", icon="💬", default=True),
    st.Page("browse.py", title="条款浏览", icon="📖", url_path="browse"),
    st.Page("report.py", title="试点文稿起草", icon="📝", url_path="report"),
    st.Page("documents.py", title="文件管理", icon="🗂️", url_path="documents"),
    st.Page("admin.py", title="管理", icon="🛠", url_path="admin"),
])
try:
    nav.run()
except Exception:  # noqa: BLE001 - a user sees a Chinese message, never a traceback
    logging.getLogger("assistant.ui").exception("page failed")
    st.error("页面出现错误，请刷新后重试；如持续出现请联系管理员。您输入的内容不会丢失。")
