"""条款浏览：the documents as clickable trees, search with the hits listed and marked, and
the role × phase matrix. A citation in the chat opens here (?doc=…&label=…)."""

from __future__ import annotations

import streamlit as st
from browser import ClauseBrowser

st.title("条款浏览")
params = st.query_params
ClauseBrowser("browse").render(params.get("doc"), params.get("label"))
