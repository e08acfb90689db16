"""条款浏览：documents as trees, a clause with its parent, children and neighbours,
and the role × phase matrix."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from common import backend, doc_names, strength_badge, vocab

from assistant.errors import AssistantError

st.title("条款浏览")
names = doc_names()
params = st.query_params
default_doc = params.get("doc") if params.get("doc") in names else list(names)[0]
doc_id = st.selectbox("文件", list(names), index=list(names).index(default_doc), format_func=lambda d: names[d])
units = backend().clauses(doc_id)
by_label = {u["clause"]: u for u in units}
order = [u["clause"] for u in units]


def label_text(u: dict) -> str:
    return f"{u['clause']}  {u['title'] or (u['text'] or '')[:40]}"


tab_tree, tab_matrix = st.tabs(["文件结构与条款", "角色 × 阶段矩阵"])
with tab_tree:
    left, right = st.columns([2, 3])
    with left:
        q = st.text_input("在本文件中查找（标号、标题或原文）", key="browse_q")
        shown = [u for u in units if not q or q in u["clause"] or q in (u["title"] or "") or q in u["text"]]
        st.caption(f"{len(shown)} / {len(units)} 个单元")
        wanted = params.get("label") if params.get("label") in by_label else None
        if "browse_sel" not in st.session_state or st.session_state.get("browse_doc") != doc_id:
            st.session_state.browse_sel = wanted or (shown[0]["clause"] if shown else order[0])
            st.session_state.browse_doc = doc_id
        options = [u["clause"] for u in shown] or order
        if st.session_state.browse_sel not in options:
            options = [st.session_state.browse_sel] + options
        st.selectbox("条款", options, key="browse_sel", format_func=lambda x: label_text(by_label[x]))
        with st.expander("文件结构（章 → 条 → 列项）", expanded=not q):
            depth = {}
            for u in units:
                depth[u["clause"]] = 0 if not u["parent"] else depth.get(u["parent"], 0) + 1
                if u["kind"] in ("table-row",):
                    continue
                st.markdown("&nbsp;" * 4 * depth[u["clause"]] + f"`{u['clause']}` {u['title'] or ''}",
                            unsafe_allow_html=True)
    with right:
        try:
            c = backend().clause(doc_id, st.session_state.browse_sel)
        except AssistantError as exc:
            st.error(exc.message)
            st.stop()
        st.subheader(c["cite"])
        strength_badge(c["strength"])
        if c["heading_path"]:
            st.caption(c["heading_path"])
        if c["title"]:
            st.markdown(f"**{c['title']}**")
        st.markdown(c["full_text"].replace("\n", "  \n") or "（本单元只有标题）")
        meta = []
        if c["roles"]:
            meta.append("角色：" + "、".join(c["roles"]))
        if c["phases"]:
            meta.append("阶段：" + "、".join(c["phases"]))
        if meta:
            st.caption("；".join(meta))

        def goto(label: str) -> None:
            st.session_state.browse_sel = label
            st.session_state.browse_q = ""

        nav = st.columns(3)
        i = order.index(c["clause"])
        if c["parent"]:
            nav[0].button(f"⬆ 上级 {c['parent']}", on_click=goto, args=(c["parent"],))
        if i > 0:
            nav[1].button(f"⬅ 上一条 {order[i - 1]}", on_click=goto, args=(order[i - 1],))
        if i + 1 < len(order):
            nav[2].button(f"下一条 {order[i + 1]} ➡", on_click=goto, args=(order[i + 1],))
        if c["children_units"]:
            st.markdown("**下级单元**")
            for ch in c["children_units"]:
                st.button(label_text(ch), key=f"child-{ch['clause']}", on_click=goto, args=(ch["clause"],))

with tab_matrix:
    v = vocab()
    roles = [r["id"] for r in v["roles"]]
    phases = [p["id"] for p in v["phases"]]
    everything = [u for d in names for u in backend().clauses(d)]
    counts = pd.DataFrame(0, index=roles, columns=phases)
    for u in everything:
        for r in u["roles"]:
            for p in u["phases"]:
                if r in counts.index and p in counts.columns:
                    counts.loc[r, p] += 1
    st.caption("行：角色；列：阶段；单元格：同时标注该角色与该阶段的条款单元数（全部文件）。")
    event = st.dataframe(counts, width="stretch", on_select="rerun", selection_mode="single-cell", key="matrix")
    picked = event.selection.cells if event is not None and hasattr(event, "selection") else []
    st.caption("点选单元格即可列出对应条款；也可在下方选择角色与阶段。")
    c1, c2 = st.columns(2)
    r_sel = c1.selectbox("角色", roles, key="m_role")
    p_sel = c2.selectbox("阶段", phases, key="m_phase")
    if picked:
        row, col = picked[0]
        r_sel, p_sel = roles[row], col
    cell = [u for u in everything if r_sel in u["roles"] and p_sel in u["phases"]]
    st.markdown(f"**{r_sel} × {p_sel}：{len(cell)} 个单元**")
    for u in cell[:200]:
        st.markdown(f"- `{names[u['doc_id']].split('｜')[0]} {u['clause']}` {u['title'] or u['text'][:60]}")
