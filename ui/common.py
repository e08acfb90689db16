"""Shared pieces of the Streamlit pages: the backend (loaded once) and display helpers."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a fresh clone
    sys.path.insert(0, str(ROOT))

from assistant.settings import get_settings  # noqa: E402
from assistant.ui_backend import make_backend  # noqa: E402

STRENGTH_BADGE = {"shall": ("应", "red"), "should": ("宜", "orange"), "may": ("可", "blue"),
                  "shall-not": ("不应", "violet"), "none": ("陈述", "gray")}


@st.cache_resource(show_spinner="正在加载索引……")
def backend():
    """One backend per server process, not per rerun or per session."""
    return make_backend(get_settings())


@st.cache_data(show_spinner=False)
def vocab() -> dict:
    b = backend()
    return {"documents": b.documents(), "roles": b.roles(), "phases": b.phases()}


def doc_names() -> dict[str, str]:
    return {d["doc_id"]: (d["code"] or d["title"]) + "｜" + d["title"] for d in vocab()["documents"]}


def highlight(full_text: str, quote: str) -> str:
    """HTML-escaped text with the quoted part marked."""
    esc = html.escape(full_text)
    for part in quote.split("……"):  # a quote of non-contiguous text is joined with ……
        q = html.escape(part.strip())
        if q and q in esc:
            esc = esc.replace(q, f"<mark>{q}</mark>", 1)
    return esc.replace("\n", "<br>")


def strength_badge(strength: str) -> None:
    label, color = STRENGTH_BADGE.get(strength, ("陈述", "gray"))
    st.badge(label, color=color)


@st.cache_data(show_spinner=False, max_entries=2000)
def clause_full_text(doc_id: str, label: str) -> str:
    """The cited unit with its items, to show the quote in its context."""
    return backend().clause(doc_id, label)["full_text"]
