"""区域品牌培育问答助手 — chat page for officials and applicants.

Run through the entry point: streamlit run ui/app.py (the README's main command starts it with the API).
"""

from __future__ import annotations

import re

import streamlit as st

from common import backend, clause_full_text, doc_names, highlight, strength_badge, vocab  # noqa: E402

from assistant.errors import AssistantError  # noqa: E402

EXAMPLES = {
    "主管部门": ["行业社会组织在成长扩张期要做什么？", "怎么打假", "品牌出海怎么做", "区域公用品牌是什么意思"],
    "申报单位": ["申报试点要什么条件？", "典型经验字数要求", "工作项目完成情况占多少分", "总结报告要写哪些部分"],
}


def new_conversation() -> None:
    st.session_state.messages = []
    st.session_state.session_id = None


if "messages" not in st.session_state:
    new_conversation()

# --- sidebar ---------------------------------------------------------------------------
with st.sidebar:
    st.header("筛选")
    v = vocab()
    names = doc_names()
    doc_ids = st.multiselect("文件", list(names), format_func=lambda d: names[d], key="f_docs",
                             placeholder="全部文件")
    role = st.selectbox("角色", [None] + [r["id"] for r in v["roles"]], format_func=lambda x: x or "（不限）",
                        key="f_role")
    phase = st.selectbox("阶段", [None] + [p["id"] for p in v["phases"]], format_func=lambda x: x or "（不限）",
                         key="f_phase")
    strengths = st.multiselect("只看这些强度的引用", ["shall", "should", "may", "shall-not", "none"],
                               format_func=lambda s: {"shall": "应（必须）", "should": "宜（建议）", "may": "可（可选）",
                                                      "shall-not": "不应（禁止）", "none": "陈述"}[s],
                               key="f_strength", placeholder="全部强度")
    st.button("🆕 新建会话", on_click=new_conversation, width="stretch")
    st.divider()
    st.subheader("示例问题")
    for group, qs in EXAMPLES.items():
        st.caption(group)
        for q in qs:
            if st.button(q, key=f"ex-{q}", width="stretch"):
                st.session_state.pending = q

st.title("区域品牌培育问答助手")
st.caption("依据区域公用品牌、产业集群品牌培育、红盾品牌及产业集群区域品牌建设试点相关标准与政策文件作答；"
           "每条要求均附原文与条款引用，可直接用于公文。")


def render_answer(msg: dict, idx: int) -> None:
    ans = msg["answer"]
    if not ans.get("stored", True):  # answered, but the session store was unavailable
        st.info("会话存储暂不可用：本轮问答未保存，无法据此追问或反馈；答复内容不受影响。")
    coverage = ans.get("coverage", "answered" if ans["supported"] else "none")
    if coverage == "none":
        st.warning("无依据：现有文件中没有找到相关规定。")
    elif coverage == "partial":
        st.info("部分依据：" + ("现有文件没有写明" + "、".join(ans["missing"]) + "。" if ans.get("missing")
                              else "以下规定与问题最相关，请核对是否回答了您的问题。"))
    # rendered by the answer stage from the answer's structure (assistant/answer/render.py)
    st.markdown(ans.get("markdown") or ans["answer"], unsafe_allow_html=True)
    if ans.get("force"):
        st.caption("文件效力：" + ans["force"])
    cites = [c for c in ans["citations"] if not msg.get("strengths") or c["strength"] in msg["strengths"]]
    if msg.get("strengths") and len(cites) < len(ans["citations"]):
        st.caption(f"按强度筛选后显示 {len(cites)} / {len(ans['citations'])} 条引用。")
    for c in cites:
        with st.expander(f"{c['cite']}  {c['heading_path'] or c['doc_title']}", expanded=False):
            cols = st.columns([1, 6])
            with cols[0]:
                strength_badge(c["strength"])
            with cols[1]:
                st.markdown(f"**{c['doc_code'] or c['doc_title']}**《{c['doc_title']}》 条款 **{c['clause']}**")
            try:
                context = clause_full_text(c["doc_id"], c["clause"])
            except AssistantError:
                context = c["quote"]
            st.markdown(highlight(context, c["quote"]), unsafe_allow_html=True)
            st.page_link("browse.py", label="在条款浏览中查看", icon="📖",
                         query_params={"doc": c["doc_id"], "label": c["clause"]})
    with st.expander("复制答复（纯文本，含引用）"):
        st.code(ans["answer"], language=None, wrap_lines=True)
    if not ans.get("stored", True):
        return  # no stored turn to rate
    fb_key = f"fb-{msg['session_id']}-{msg['turn']}"
    rating = st.feedback("thumbs", key=fb_key)
    if rating is not None and not st.session_state.get(fb_key + "-sent"):
        comment = st.text_input("补充意见（可选）", key=fb_key + "-c")
        if st.button("提交反馈", key=fb_key + "-b"):
            try:
                backend().feedback(msg["session_id"], msg["turn"], 1 if rating == 1 else -1, comment)
                st.session_state[fb_key + "-sent"] = True
                st.success("已记录，谢谢！")
            except AssistantError as exc:
                st.error(exc.message)


for i, msg in enumerate(st.session_state.messages):
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(msg["content"])
        elif "error" in msg:
            st.error(msg["error"])
        else:
            render_answer(msg, i)

question = st.chat_input("请输入问题，例如：行业社会组织在成长扩张期要做什么？")
question = question or st.session_state.pop("pending", None)
if question is not None:
    # keep what the user typed, even if the answer fails
    st.session_state.messages.append({"role": "user", "content": question})
    try:
        with st.spinner("检索并核验条款……"):
            ans = backend().ask(question, role=role, phase=phase, doc_ids=doc_ids,
                                session_id=st.session_state.session_id)
        st.session_state.session_id = ans["session_id"]
        st.session_state.messages.append({"role": "assistant", "answer": ans, "session_id": ans["session_id"],
                                          "turn": ans["turn"], "strengths": list(strengths)})
    except AssistantError as exc:
        st.session_state.messages.append({"role": "assistant", "error": exc.message})
    st.rerun()
