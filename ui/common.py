"""Shared pieces of the Streamlit pages: the backend (loaded once per process), the page
chrome (Chinese only: Streamlit's own English toolbar, status widget and input hints are
hidden), and display helpers."""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a fresh clone
    sys.path.insert(0, str(ROOT))

from assistant.settings import get_settings  # noqa: E402
from assistant.ui_backend import backend_loaded, shared_backend  # noqa: E402

STRENGTH_BADGE = {"shall": ("应", "red"), "should": ("宜", "orange"), "may": ("可", "blue"),
                  "shall-not": ("不应", "violet"), "none": ("陈述", "gray")}
STRENGTH_ZH = {"shall": "应（必须）", "should": "宜（建议）", "may": "可（可选）", "shall-not": "不应（禁止）", "none": "陈述"}

# Streamlit's chrome that would show English: the toolbar (Deploy, ⋮ menu), the running-man
# status widget ("Running…", "Stop"), input hints ("Press Enter to apply"), the header's
# anchor-link icons, the sidebar's collapse tooltip. (config.toml sets toolbarMode too.)
CHROME_CSS = """
<style>
[data-testid="stToolbar"], [data-testid="stStatusWidget"], [data-testid="stDecoration"],
[data-testid="stAppDeployButton"], [data-testid="stMainMenu"], [data-testid="InputInstructions"],
[data-testid="stHeaderActionElements"], .stDeployButton, [data-testid="stToolbarActions"],
[data-testid="stSkipToContent"] { display: none !important; }
.ba-ctx { color: #6b7280; font-size: 0.85em; }
.ba-direct { font-size: 1.05rem; font-weight: 600; line-height: 1.7; margin: 0 0 .4rem 0; }
.ba-copy { border: 1px solid #d1d5db; background: #fff; border-radius: .5rem; padding: .15rem .7rem; cursor: pointer;
           font-size: .9rem; color: #1f2937; }
.ba-copy:hover { border-color: #a61d24; color: #a61d24; }
.ba-copied { color: #047857; font-size: .85rem; margin-left: .4rem; }
mark { background: #fde68a; padding: 0 .1em; }
/* the role x phase matrix: the grid on wide screens, one role at a time on phones */
@media (max-width: 700px) { .st-key-matrix_wide { display: none !important; } }
@media (min-width: 701px) { .st-key-matrix_narrow { display: none !important; } }
.st-key-matrix_wide button { min-height: 2rem; padding: 0 .3rem; }
/* on phones the clause shown comes before the list it was picked from */
@media (max-width: 640px) {
  .st-key-browse_split [data-testid="stHorizontalBlock"],
  .st-key-pick_split [data-testid="stHorizontalBlock"] { flex-direction: column-reverse; }
  .st-key-browse_split [data-testid="stHorizontalBlock"] [data-testid="stHorizontalBlock"],
  .st-key-pick_split [data-testid="stHorizontalBlock"] [data-testid="stHorizontalBlock"] { flex-direction: row; }
}
</style>
"""


def chrome() -> None:
    """The Chinese-only chrome; call first on every page (before anything slow, so it is
    in the browser before a long script run would show Streamlit's own status widget)."""
    st.html(CHROME_CSS)


def backend():
    """One backend per server process (not per rerun or per session). The first call in a
    process loads the index; `brand-assistant ui` starts that at server start-up. Until it
    is loaded, the page says so in Chinese."""
    settings = get_settings()
    if backend_loaded(settings):
        return shared_backend(settings)
    with st.spinner("正在加载索引，首次打开约需 10 秒，请稍候……"):
        return shared_backend(settings)


@st.cache_data(show_spinner=False)
def vocab() -> dict:
    b = backend()
    return {"documents": b.documents(), "roles": b.roles(), "phases": b.phases()}


def doc_names() -> dict[str, str]:
    return {d["doc_id"]: short_name(d) + "｜" + d["title"] for d in vocab()["documents"]}


def short_name(d: dict) -> str:
    """How a document is named in chips and lists: its number, else its title (a draft's
    placeholder number never shown)."""
    code = d.get("code") or ""
    return code if code and "XXX" not in code else d["title"] + ("（征求意见稿）" if "XXX" in code else "")


def doc_short(doc_id: str) -> str:
    d = next((x for x in vocab()["documents"] if x["doc_id"] == doc_id), None)
    return short_name(d) if d else doc_id


def highlight(full_text: str, quote: str) -> str:
    """HTML-escaped text with the quoted part marked."""
    esc = html.escape(full_text)
    for part in quote.split("……"):  # a quote of non-contiguous text is joined with ……
        q = html.escape(part.strip())
        if q and q in esc:
            esc = esc.replace(q, f"<mark>{q}</mark>", 1)
    return esc.replace("\n", "<br>")


def mark_terms(text: str, term: str) -> str:
    """HTML-escaped text with every occurrence of a search term marked."""
    esc = html.escape(text)
    t = html.escape(term)
    return esc.replace(t, f"<mark>{t}</mark>") if t else esc


def strength_badge(strength: str) -> None:
    label, color = STRENGTH_BADGE.get(strength, ("陈述", "gray"))
    st.badge(label, color=color)


@st.cache_data(show_spinner=False, max_entries=2000)
def clause_full_text(doc_id: str, label: str) -> str:
    """The cited unit with its items, to show the quote in its context."""
    return backend().clause(doc_id, label)["full_text"]


def copy_button(text: str, key: str, label: str = "复制答复") -> None:
    """A Chinese copy button (Streamlit's own code-block button says "Copy to clipboard")."""
    payload = html.escape(json.dumps(text, ensure_ascii=False), quote=True)
    st.html(f"""
<div><button type="button" class="ba-copy" id="copy-{key}" data-text="{payload}">{label}</button><span
 class="ba-copied" id="copied-{key}"></span></div>
<script>
(function () {{
  var b = document.getElementById("copy-{key}");
  if (!b || b.dataset.ready) return;
  b.dataset.ready = "1";
  b.addEventListener("click", function () {{
    var text = JSON.parse(b.dataset.text), note = document.getElementById("copied-{key}");
    function done() {{ note.textContent = "已复制"; setTimeout(function () {{ note.textContent = ""; }}, 2500); }}
    function fallback() {{
      var t = document.createElement("textarea"); t.value = text; t.style.position = "fixed"; t.style.opacity = "0";
      document.body.appendChild(t); t.select();
      try {{ document.execCommand("copy"); done(); }} catch (e) {{ note.textContent = "请手动复制"; }}
      document.body.removeChild(t);
    }}
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }});
}})();
</script>""", unsafe_allow_javascript=True)
