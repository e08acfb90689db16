"""The clause browser, as a component: the 条款浏览 page uses it, and the admin page uses it
to pick the units that answer a question.

Three ways to a unit, each of them clickable: the document's tree (chapter → clause → item,
a branch opens when clicked), a search whose hits are listed with the match marked, and the
role × phase matrix (a cell lists its units and sets the selectors). The chosen unit is shown
with its parent, neighbours and children, each a button again. On a phone the unit comes
first and the matrix is one role at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st
from common import backend, doc_names, doc_short, strength_badge, vocab

from assistant.errors import AssistantError

VIEWS = {"tree": "文件结构", "search": "查找", "matrix": "角色 × 阶段"}
MAX_HITS = 60
MAX_CELL = 120
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-.!|~:$<>])")


def md_text(s: str) -> str:
    """Plain text inside a button label (Markdown there is live)."""
    return _MD_SPECIAL.sub(r"\\\1", s)


@st.cache_data(show_spinner=False)
def all_units() -> dict[str, list[dict]]:
    return {d: backend().clauses(d) for d in doc_names()}


@st.cache_data(show_spinner=False)
def matrix_counts() -> dict[tuple[str, str], list[tuple[str, str]]]:
    cells: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for d, units in all_units().items():
        for u in units:
            for r in u["roles"]:
                for p in u["phases"]:
                    cells.setdefault((r, p), []).append((d, u["clause"]))
    return cells


def unit_name(u: dict, width: int = 28) -> str:
    text = u["title"] or (u["text"] or "").replace("\n", " ")
    if text == u["clause"]:  # 封面, 前言: the label is the title
        return ""
    return text if len(text) <= width else text[:width] + "…"


class ClauseBrowser:
    def __init__(self, prefix: str, pick: Callable[[str, str], None] | None = None,
                 picked: set[tuple[str, str]] | None = None) -> None:
        self.p = prefix
        self.pick = pick
        self.picked = picked or set()
        self.names = doc_names()
        self.units = all_units()
        self.by_label = {d: {u["clause"]: u for u in us} for d, us in self.units.items()}

    # -- state -------------------------------------------------------------------------
    def k(self, name: str) -> str:
        return f"{self.p}_{name}"

    @property
    def selected(self) -> tuple[str, str]:
        return st.session_state[self.k("sel")]

    def select(self, doc_id: str, label: str) -> None:
        """Show a unit (a callback: runs before the widgets of the next run)."""
        st.session_state[self.k("sel")] = (doc_id, label)
        opened = st.session_state.setdefault(self.k("open"), set())
        u = self.by_label[doc_id].get(label)
        while u is not None and u["parent"]:
            opened.add((doc_id, u["parent"]))
            u = self.by_label[doc_id].get(u["parent"])

    def toggle(self, doc_id: str, label: str) -> None:
        opened = st.session_state.setdefault(self.k("open"), set())
        if (doc_id, label) in opened and st.session_state[self.k("sel")] == (doc_id, label):
            opened.discard((doc_id, label))
        else:
            opened.add((doc_id, label))
        self.select(doc_id, label)

    def init(self, doc_id: str | None, label: str | None) -> None:
        if self.k("sel") in st.session_state and st.session_state[self.k("sel")][0] in self.names:
            if not (doc_id and label and st.session_state.get(self.k("deep")) != (doc_id, label)):
                return
        doc_id = doc_id if doc_id in self.names else next(iter(self.names))
        if label not in self.by_label[doc_id]:
            label = self.units[doc_id][0]["clause"]
        st.session_state[self.k("deep")] = (doc_id, label)
        self.select(doc_id, label)

    # -- layout ------------------------------------------------------------------------
    def render(self, doc_id: str | None = None, label: str | None = None) -> None:
        self.init(doc_id, label)
        view = st.segmented_control("浏览方式", list(VIEWS), format_func=VIEWS.get, key=self.k("view"),
                                    default="tree", label_visibility="collapsed")
        view = view or "tree"
        if view == "matrix":
            self.matrix()
        with st.container(key=f"{self.p}_split"):
            left, right = st.columns([2, 3], gap="medium")
            with left:
                if view == "tree":
                    self.tree()
                elif view == "search":
                    self.search()
                else:
                    self.cell_units()
            with right:
                self.detail()

    # -- the tree ----------------------------------------------------------------------
    def tree(self) -> None:
        names = self.names
        st.session_state[self.k("doc_w")] = self.selected[0]  # the widget shows the unit's document
        st.selectbox("文件", list(names), format_func=lambda d: names[d], key=self.k("doc_w"), placeholder="请选择文件",
                     on_change=lambda: self.select(st.session_state[self.k("doc_w")],
                                                   self.units[st.session_state[self.k("doc_w")]][0]["clause"]))
        doc_id = self.selected[0]
        opened = st.session_state.setdefault(self.k("open"), set())
        sel = self.selected
        by_label = self.by_label[doc_id]
        st.caption("点击章、条展开下级，点击任一单元在右侧查看原文。")
        with st.container(key=f"{self.p}_tree", gap=None):
            stack = [(u, 0) for u in reversed([u for u in self.units[doc_id] if not u["parent"]])]
            while stack:
                u, depth = stack.pop()
                kids = [by_label[c] for c in u["children"] if c in by_label]
                is_open = (doc_id, u["clause"]) in opened
                mark = ("－ " if is_open else "＋ ") if kids else "　 "
                label = "　" * depth + mark + md_text(f"{u['clause']}  {unit_name(u)}")
                st.button(label, key=self.k(f"t-{doc_id}-{u['clause']}"), on_click=self.toggle,
                          args=(doc_id, u["clause"]), type="primary" if sel == (doc_id, u["clause"]) else "tertiary")
                if kids and is_open:
                    stack.extend((c, depth + 1) for c in reversed(kids))

    # -- search ------------------------------------------------------------------------
    def search(self) -> None:
        q = st.text_input("查找（标号、标题或原文）", key=self.k("q"), placeholder="例如：授权、6.4.4、典型经验")
        everywhere = st.toggle("在全部文件中查找", key=self.k("all"), value=True,
                               help="关闭后只在当前条款所在的文件中查找")
        if not q.strip():
            st.caption("输入词语后，命中的条款会列在这里，点击即可查看。")
            return
        q = q.strip()
        docs = list(self.names) if everywhere else [self.selected[0]]
        hits = [(d, u) for d in docs for u in self.units[d]
                if q in u["clause"] or q in (u["title"] or "") or q in (u["text"] or "")]
        total = sum(len(self.units[d]) for d in docs)
        st.caption(f"找到 {len(hits)} 个单元（共 {total} 个）" + (f"，显示前 {MAX_HITS} 个" if len(hits) > MAX_HITS else ""))
        if hits and st.session_state.get(self.k("q_last")) != (q, everywhere):
            st.session_state[self.k("q_last")] = (q, everywhere)
            if self.selected not in {(d, u["clause"]) for d, u in hits}:
                self.select(hits[0][0], hits[0][1]["clause"])  # the first hit, not the old unit
        sel = self.selected
        for d, u in hits[:MAX_HITS]:
            chosen = sel == (d, u["clause"])
            st.button(self.hit_label(d, u, q, everywhere, on_dark=chosen), key=self.k(f"h-{d}-{u['clause']}"),
                      on_click=self.select, args=(d, u["clause"]), type="primary" if chosen else "tertiary")

    def hit_label(self, d: str, u: dict, q: str, with_doc: bool, on_dark: bool = False) -> str:
        """on_dark: the selected hit (white text on the primary colour), where a light
        highlight would hide the match: it is set in bold only."""
        text = (u["title"] or "") + " " + (u["text"] or "")
        at = text.find(q)
        if at < 0:
            snippet = unit_name(u, 40)
        else:
            start = max(0, at - 6)  # the match near the start, so it survives the line's end
            snippet = ("…" if start else "") + text[start:at + len(q) + 20].replace("\n", " ")
        parts = md_text(snippet).split(md_text(q))
        mark = f"**{md_text(q)}**" if on_dark else f":orange-background[**{md_text(q)}**]"
        marked = mark.join(parts)
        where = md_text(doc_short(d)) + " " if with_doc else ""
        return f"{where}**{md_text(u['clause'])}**  {marked}"

    # -- the matrix --------------------------------------------------------------------
    def cell(self) -> tuple[str, str]:
        v = vocab()
        return st.session_state.setdefault(self.k("cell"), (v["roles"][0]["id"], v["phases"][0]["id"]))

    def set_cell(self, role: str, phase: str) -> None:
        """A cell clicked: the selectors show it, its units are listed, the first is shown."""
        st.session_state[self.k("cell")] = (role, phase)
        cell = matrix_counts().get((role, phase), [])
        if cell:
            self.select(*cell[0])

    def _from_selectors(self) -> None:
        self.set_cell(st.session_state[self.k("m_role")], st.session_state[self.k("m_phase")])

    def matrix(self) -> None:
        v = vocab()
        roles = [r["id"] for r in v["roles"]]
        phases = [p["id"] for p in v["phases"]]
        cells = matrix_counts()
        cur = self.cell()
        st.caption("行：角色；列：阶段；数字：同时标注该角色与该阶段的条款单元数（全部文件）。点击数字列出这些条款。")
        with st.container(key="matrix_wide"):
            head = st.columns([1.7] + [1] * len(phases), gap="small")
            head[0].markdown("**角色 ＼ 阶段**")
            for col, p in zip(head[1:], phases):
                col.markdown(f"**{p}**")
            for r in roles:
                row = st.columns([1.7] + [1] * len(phases), gap="small", vertical_alignment="center")
                row[0].markdown(r)
                for col, p in zip(row[1:], phases):
                    n = len(cells.get((r, p), []))
                    col.button(str(n), key=self.k(f"mw-{r}-{p}"), on_click=self.set_cell, args=(r, p),
                               disabled=n == 0, width="stretch",
                               type="primary" if cur == (r, p) else "secondary")
        st.session_state[self.k("m_role")], st.session_state[self.k("m_phase")] = cur
        c1, c2 = st.columns(2)
        c1.selectbox("角色", roles, key=self.k("m_role"), on_change=self._from_selectors, placeholder="请选择角色")
        c2.selectbox("阶段", phases, key=self.k("m_phase"), on_change=self._from_selectors, placeholder="请选择阶段")
        with st.container(key="matrix_narrow"):
            role = cur[0]
            st.caption(f"{role}在各阶段的条款数（点击查看）：")
            with st.container(horizontal=True):
                for p in phases:
                    n = len(cells.get((role, p), []))
                    st.button(f"{p}（{n}）", key=self.k(f"mn-{role}-{p}"), on_click=self.set_cell, args=(role, p),
                              disabled=n == 0, type="primary" if cur == (role, p) else "secondary")

    def cell_units(self) -> None:
        role, phase = self.cell()
        cell = matrix_counts().get((role, phase), [])
        st.markdown(f"**{role} × {phase}：{len(cell)} 个单元**")
        sel = self.selected
        for d, label in cell[:MAX_CELL]:
            u = self.by_label[d][label]
            st.button(md_text(f"{doc_short(d)} {label}  {unit_name(u, 30)}"), key=self.k(f"c-{d}-{label}"),
                      on_click=self.select, args=(d, label), type="primary" if sel == (d, label) else "tertiary")
        if len(cell) > MAX_CELL:
            st.caption(f"仅列出前 {MAX_CELL} 个。")

    # -- the unit ----------------------------------------------------------------------
    def detail(self) -> None:
        doc_id, label = self.selected
        try:
            c = backend().clause(doc_id, label)
        except AssistantError as exc:
            st.error(exc.message)
            return
        with st.container(border=True, key=f"{self.p}_detail"):
            with st.container(horizontal=True, vertical_alignment="center"):
                strength_badge(c["strength"])
                st.markdown(f"#### {c['cite']}")
            st.caption(f"《{self.names[doc_id].split('｜', 1)[1]}》" + (f"  {c['heading_path']}" if c["heading_path"] else ""))
            if c["title"]:
                st.markdown(f"**{md_text(c['title'])}**")
            st.markdown(md_text(c["full_text"]).replace("\n", "  \n") or "（本单元只有标题）")
            meta = []
            if c["roles"]:
                meta.append("角色：" + "、".join(c["roles"]))
            if c["phases"]:
                meta.append("阶段：" + "、".join(c["phases"]))
            if meta:
                st.caption("；".join(meta))
            if self.pick is not None:
                if (doc_id, c["clause"]) in self.picked:
                    st.success("已选为正确条款")
                else:
                    st.button("选为正确条款", key=self.k(f"pick-{doc_id}-{c['clause']}"), type="primary",
                              on_click=self.pick, args=(doc_id, c["clause"]))
        order = [u["clause"] for u in self.units[doc_id]]
        i = order.index(c["clause"]) if c["clause"] in order else 0
        with st.container(horizontal=True):
            if c["parent"]:
                st.button(f"⬆ 上级 {c['parent']}", key=self.k("up"), on_click=self.select, args=(doc_id, c["parent"]))
            if i > 0:
                st.button(f"⬅ 上一条 {order[i - 1]}", key=self.k("prev"), on_click=self.select,
                          args=(doc_id, order[i - 1]))
            if i + 1 < len(order):
                st.button(f"下一条 {order[i + 1]} ➡", key=self.k("next"), on_click=self.select,
                          args=(doc_id, order[i + 1]))
        if c["children_units"]:
            st.markdown("**下级单元**")
            for ch in c["children_units"]:
                st.button(md_text(f"{ch['clause']}  {unit_name(ch, 40)}"), key=self.k(f"ch-{ch['clause']}"),
                          on_click=self.select, args=(doc_id, ch["clause"]), type="tertiary")
