"""区域品牌培育问答助手 — the chat officials and applicants use.

Each answer is rendered from the API's structure (assistant/answer/render.py): a one-paragraph
direct answer, the cited points, then the details collapsed (the citations with their context,
同条其他要求, other documents' provisions). Filters show as removable chips; when they leave no
answer or a weaker one, the answer says so and offers the unfiltered one. Every stored answer,
无依据 ones included, can be rated; the confirmation sits next to the buttons.
"""

from __future__ import annotations

import logging

import streamlit as st

from common import (  # noqa: E402
    STRENGTH_ZH,
    backend,
    clause_full_text,
    copy_button,
    doc_names,
    doc_short,
    highlight,
    strength_badge,
    vocab,
)

from assistant.answer import render  # noqa: E402
from assistant.answer.models import Answer  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402

log = logging.getLogger("assistant.ui")
EXAMPLES = {
    "主管部门": ["行业社会组织在成长扩张期要做什么？", "怎么打假", "品牌出海怎么做", "区域公用品牌是什么意思"],
    "申报单位": ["申报试点要什么条件？", "典型经验字数要求", "工作项目完成情况占多少分", "总结报告要写哪些部分"],
}
FILTER_KEYS = ("f_docs", "f_role", "f_phase", "f_strength")


def new_conversation() -> None:
    st.session_state.messages = []
    st.session_state.session_id = None


def remove_filter(key: str, value=None) -> None:
    """Drop one value of a filter (value None: the whole filter)."""
    if key in ("f_docs", "f_strength") and value is not None:
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v != value]
    else:
        st.session_state[key] = [] if key in ("f_docs", "f_strength") else None


def clear_filters() -> None:
    for key in FILTER_KEYS:
        remove_filter(key)


def ask_unfiltered(question: str) -> None:
    """The hint's button: the same question again, without documents, role or phase."""
    for key in ("f_docs", "f_role", "f_phase"):
        remove_filter(key)
    st.session_state.pending = question


def send_feedback(msg: dict, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:  # un-clicked
        return
    rating = 1 if value == 1 else -1
    try:
        backend().feedback(msg["session_id"], msg["turn"], rating, "")
        st.session_state[key + "-status"] = ("ok", "已记录，谢谢！" if rating == 1 else
                                             "已记录。可在下方写明哪里不对，帮助我们改进。")
    except AssistantError as exc:
        st.session_state[key + "-status"] = ("error", exc.message)


def send_comment(msg: dict, key: str) -> None:
    comment = (st.session_state.get(key + "-c") or "").strip()
    value = st.session_state.get(key)
    if not comment or value is None:
        st.session_state[key + "-status"] = ("error", "请先写下意见。") if not comment else st.session_state.get(
            key + "-status")
        return
    try:
        backend().feedback(msg["session_id"], msg["turn"], 1 if value == 1 else -1, comment)
        st.session_state[key + "-status"] = ("ok", "意见已记录，谢谢！")
    except AssistantError as exc:
        st.session_state[key + "-status"] = ("error", exc.message)


if "messages" not in st.session_state:
    new_conversation()

# --- sidebar: filters (a link can set them: ?doc=…&role=…&phase=…) --------------------------
v = vocab()
names = doc_names()
roles = [r["id"] for r in v["roles"]]
phases = [p["id"] for p in v["phases"]]
if not st.session_state.get("filters_from_url"):
    # a link may carry filters: ?doc=gxas-1220-2026&doc=…&role=行业社会组织&phase=成长扩张期
    st.session_state.filters_from_url = True
    qp = st.query_params
    st.session_state.f_docs = [d for d in qp.get_all("doc") if d in names]
    st.session_state.f_role = qp.get("role") if qp.get("role") in roles else None
    st.session_state.f_phase = qp.get("phase") if qp.get("phase") in phases else None
with st.sidebar:
    st.header("筛选")
    st.multiselect("文件", list(names), format_func=lambda d: names[d], key="f_docs", placeholder="全部文件")
    st.selectbox("角色", [None] + roles, format_func=lambda x: x or "（不限）", key="f_role", placeholder="（不限）")
    st.selectbox("阶段", [None] + phases, format_func=lambda x: x or "（不限）", key="f_phase", placeholder="（不限）")
    st.multiselect("只看这些强度的要点", list(STRENGTH_ZH), format_func=STRENGTH_ZH.get, key="f_strength",
                   placeholder="全部强度")
    st.button("新建会话", on_click=new_conversation, width="stretch")
    st.divider()
    st.subheader("示例问题")
    for group, qs in EXAMPLES.items():
        st.caption(group)
        for q in qs:
            if st.button(q, key=f"ex-{q}", width="stretch"):
                st.session_state.pending = q

doc_ids = list(st.session_state.get("f_docs") or [])
role = st.session_state.get("f_role")
phase = st.session_state.get("f_phase")
strengths = set(st.session_state.get("f_strength") or [])

st.title("区域品牌培育问答助手")
st.caption("依据区域公用品牌、产业集群品牌培育、红盾品牌及产业集群区域品牌建设试点相关标准与政策文件作答；"
           "每条要求均附原文与条款引用，可直接用于公文。")

# --- the active filters as removable chips ------------------------------------------------
chips = ([("f_docs", d, "文件：" + doc_short(d)) for d in doc_ids]
         + ([("f_role", None, "角色：" + role)] if role else []) + ([("f_phase", None, "阶段：" + phase)] if phase else [])
         + [("f_strength", s, "强度：" + STRENGTH_ZH[s]) for s in sorted(strengths)])
if chips:
    with st.container(horizontal=True, key="filter_chips", vertical_alignment="center"):
        st.markdown("**当前筛选**")
        for key, value, label in chips:
            st.button(f"{label}  ✕", key=f"chip-{key}-{value}", on_click=remove_filter, args=(key, value),
                      help="点击移除这项筛选")
        if len(chips) > 1:
            st.button("清除全部筛选", key="chip-clear", on_click=clear_filters, type="tertiary")


def filters_caption(msg: dict) -> str:
    f = msg.get("filters") or {}
    parts = []
    if f.get("doc_ids"):
        parts.append("文件 " + "、".join(doc_short(d) for d in f["doc_ids"]))
    if f.get("role"):
        parts.append("角色 " + f["role"])
    if f.get("phase"):
        parts.append("阶段 " + f["phase"])
    return ("本答复按筛选作答：" + "；".join(parts)) if parts else ""


def render_unfiltered(msg: dict, uf) -> None:
    with st.container(border=True):
        st.markdown(f"**{render.md_escape(uf.message)}**")
        if uf.direct:
            st.markdown(render.md_escape(uf.direct))
        for c in uf.citations[1:] if uf.direct and uf.citations and uf.citations[0].cite in uf.direct else uf.citations:
            st.markdown("- " + render.citation_markdown(c, 90))
        st.button("查看不加筛选的答复", key=f"unfiltered-{msg['session_id']}-{msg['turn']}", type="primary",
                  on_click=ask_unfiltered, args=(msg["question"],))


def render_cards(cites) -> None:
    for c in cites:
        with st.container(border=True):
            with st.container(horizontal=True, vertical_alignment="center"):
                strength_badge(c.strength)
                st.markdown(f"**{c.cite}**")
            st.caption(f"《{c.doc_title}》" + (f"  {c.heading_path}" if c.heading_path else ""))
            try:
                context = clause_full_text(c.doc_id, c.label)
            except AssistantError:
                context = c.quote
            st.markdown(highlight(context, c.quote), unsafe_allow_html=True)
            st.page_link("browse.py", label="在条款浏览中查看", icon="📖",
                         query_params={"doc": c.doc_id, "label": c.label})


def render_feedback(msg: dict) -> None:
    key = f"fb-{msg['session_id']}-{msg['turn']}"
    with st.container(horizontal=True, vertical_alignment="center", key=f"actions-{msg['session_id']}-{msg['turn']}"):
        st.feedback("thumbs", key=key, on_change=send_feedback, args=(msg, key))
        status = st.session_state.get(key + "-status")
        if status:
            (st.success if status[0] == "ok" else st.error)(status[1])
    if st.session_state.get(key) is not None:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("补充意见（可选）", key=key + "-c", placeholder="哪里不对？例如：应引用附件3 二、")
            st.button("提交意见", key=key + "-b", on_click=send_comment, args=(msg, key))


def render_body(a: Answer) -> None:
    """The direct answer and the cited points (strength filter applied)."""
    if a.direct:
        st.markdown(f"**{render.direct_markdown(a)}**")
    shown = render.shown_points(a, strengths)
    if a.points:
        if shown:
            st.markdown(render.points_markdown(a, strengths), unsafe_allow_html=True)
        if strengths and len(shown) < len(a.points):
            st.caption(f"按强度筛选后显示 {len(shown)} / {len(a.points)} 条要点"
                       + ("；清除强度筛选可查看全部。" if not shown else "。"))


def render_answer(msg: dict) -> None:
    data = msg["answer"]
    a = Answer.from_dict(data)
    if not data.get("stored", True):  # answered, but the session store was unavailable
        st.info("会话存储暂不可用：本轮问答未保存，无法据此追问或反馈；答复内容不受影响。")
    cap = filters_caption(msg)
    if cap:
        st.caption(cap)
    if a.unfiltered is not None:
        # the filters left little: say so first, offer the unfiltered answer, keep the rest folded
        render_unfiltered(msg, a.unfiltered)
        if a.points:
            with st.expander("所选范围内最接近的规定"):
                render_body(a)
    else:
        if a.coverage == "none":
            st.warning("无依据：现有文件中没有找到相关规定。")
        elif a.coverage == "partial":
            st.info("部分依据：" + ("现有文件没有写明" + "、".join(a.missing) + "。" if a.missing
                                  else "以下规定与问题最相关，请核对是否回答了您的问题。"))
        render_body(a)
    if a.coverage == "none" and a.nearest_topics:
        st.markdown("**文件中相近的内容**\n" + "\n".join(f"- {render.md_escape(t)}" for t in a.nearest_topics))
    if a.force:
        st.caption("文件效力：" + a.force)
    if a.curated:
        st.caption("本答复采用了管理员核定的条款。")
    cites = render.shown_citations(a, strengths)
    if cites:
        with st.expander(f"引用原文与出处（{len(cites)} 条）"):
            render_cards(cites)
    if a.other_items:
        with st.expander(f"同条其他要求（{len(a.other_items)} 条）"):
            st.markdown("\n".join(f"- {render.citation_markdown(c)}" for c in a.other_items))
    if a.related:
        with st.expander(f"其他文件的相关规定（{len(a.related)} 条）"):
            st.markdown("\n".join(f"- {render.citation_markdown(c)}" for c in a.related))
    copy_button(render.copy_text(a, strengths), key=f"{msg['session_id']}-{msg['turn']}")
    if data.get("stored", True) and msg.get("turn"):
        render_feedback(msg)


for msg in st.session_state.messages:
    with st.chat_message(msg["role"], avatar="🧑" if msg["role"] == "user" else "📘"):
        if msg["role"] == "user":
            st.markdown(render.md_escape(msg["content"]))
        elif "error" in msg:
            st.error(msg["error"])
        else:
            render_answer(msg)

question = st.chat_input("请输入问题，例如：行业社会组织在成长扩张期要做什么？")
question = question or st.session_state.pop("pending", None)
if question is not None:
    # keep what the user typed, even if the answer fails
    st.session_state.messages.append({"role": "user", "content": question})
    filters = {"doc_ids": doc_ids, "role": role, "phase": phase}
    try:
        with st.spinner("正在检索并核验条款……"):
            ans = backend().ask(question, role=role, phase=phase, doc_ids=doc_ids,
                                session_id=st.session_state.session_id)
        if ans.get("session_id"):
            st.session_state.session_id = ans["session_id"]
        st.session_state.messages.append({"role": "assistant", "answer": ans, "session_id": ans["session_id"],
                                          "turn": ans["turn"], "question": question, "filters": filters})
    except AssistantError as exc:
        st.session_state.messages.append({"role": "assistant", "error": exc.message})
    except Exception:  # noqa: BLE001 - a user never sees a traceback
        log.exception("ask failed")
        st.session_state.messages.append({"role": "assistant", "error": "服务内部错误，请稍后重试；您的问题已保留在上方。"})
    st.rerun()
