"""区域品牌培育问答助手 — Streamlit entry point: `streamlit run ui/app.py`."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="区域品牌培育问答助手", page_icon="📘", layout="wide")
nav = st.navigation([
    st.Page("chat.py", title="问答", icon="💬", default=True),
    st.Page("browse.py", title="条款浏览", icon="📖", url_path="browse"),
    st.Page("report.py", title="试点文稿起草", icon="📝", url_path="report"),
    st.Page("documents.py", title="文件管理", icon="🗂️", url_path="documents"),
])
nav.run()
