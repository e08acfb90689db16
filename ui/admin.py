"""管理 (admin key): conversations and 👎 feedback; for a bad answer, pick the right unit(s) in
the clause browser and save a curated question → units pair (corpus/curated/admin.jsonl).
The next time the question is asked it is answered with those units; similar questions get
them lifted in retrieval; every pair is also a regression test (`brand-assistant eval`)."""

from __future__ import annotations

import streamlit as st
from browser import ClauseBrowser
from common import backend, doc_short

from assistant.answer.render import md_escape
from assistant.errors import AssistantError

COVERAGE_ZH = {"answered": "有依据", "partial": "部分依据", "none": "无依据", "": "—"}
VIEWS = {"down": "👎 待处理的反馈", "all": "全部对话", "curate": "纠正（问题 → 条款）"}

st.title("管理：对话、反馈与纠正")
b = backend()


def login() -> None:
    key = st.session_state.get("admin_key_input", "")
    try:
        b.check_admin(key)
        st.session_state.admin_key = key
        st.session_state.admin_login_error = None
    except AssistantError as exc:
        st.session_state.admin_login_error = exc.message


if not st.session_state.get("admin_key"):
    if not b.admin_configured:
        st.warning("未配置管理员密钥：请在服务的环境变量中设置 BA_ADMIN_KEYS（逗号分隔）后重启。")
        st.stop()
    with st.form("admin_login"):
        st.text_input("管理员密钥", type="password", key="admin_key_input", placeholder="请输入管理员密钥")
        st.form_submit_button("进入管理", type="primary", on_click=login)
    if st.session_state.get("admin_login_error"):
        st.error(st.session_state.admin_login_error)
    st.stop()

KEY = st.session_state.admin_key
st.session_state.setdefault("admin_units", [])


def logout() -> None:
    st.session_state.admin_key = None


def start_curating(t: dict) -> None:
    st.session_state.admin_target = t
    st.session_state.admin_question = t["question"]
    st.session_state.admin_note = t.get("comment") or ""
    st.session_state.admin_units = []
    st.session_state.admin_view = "curate"
    st.session_state.admin_saved = None


def add_unit(doc_id: str, label: str) -> None:
    if (doc_id, label) not in st.session_state.admin_units:
        st.session_state.admin_units.append((doc_id, label))


def drop_unit(unit: tuple[str, str]) -> None:
    st.session_state.admin_units = [u for u in st.session_state.admin_units if u != unit]


def save() -> None:
    t = st.session_state.get("admin_target") or {}
    try:
        pair = b.curate(KEY, st.session_state.get("admin_question", ""), list(st.session_state.admin_units),
                        note=st.session_state.get("admin_note", ""), session_id=t.get("session_id"),
                        turn=t.get("turn"))
        st.session_state.admin_saved = ("ok", f"已保存纠正：「{pair['question']}」→ " + "、".join(pair["cites"])
                                              + "。再问这个问题，将以这些条款作答。纠正保存在语料目录的纠正文件中，"
                                              "请随版本一并提交。")
        st.session_state.admin_units = []
    except AssistantError as exc:
        st.session_state.admin_saved = ("error", exc.message)


def remove(pair_id: str) -> None:
    try:
        b.remove_curated(KEY, pair_id)
        st.session_state.admin_saved = ("ok", "已删除该纠正。")
    except AssistantError as exc:
        st.session_state.admin_saved = ("error", exc.message)


with st.container(horizontal=True, vertical_alignment="center"):
    view = st.segmented_control("视图", list(VIEWS), format_func=VIEWS.get, key="admin_view", default="down",
                                label_visibility="collapsed") or "down"
    st.button("退出管理", on_click=logout, type="tertiary")


def turn_card(t: dict, i: int) -> None:
    with st.container(border=True):
        rating = {1: "👍", -1: "👎"}.get(t["rating"], "未评价")
        st.markdown(f"**{md_escape(t['question'])}**")
        st.caption(f"{t['created_at'].replace('T', ' ')[:19]}　·　{COVERAGE_ZH.get(t['coverage'], t['coverage'])}"
                   f"　·　{rating}　·　该会话第 {t['turn']} 轮")
        if t.get("comment"):
            st.markdown("用户意见：" + md_escape(t["comment"]))
        if t.get("direct"):
            st.markdown("答复：" + md_escape(t["direct"][:200]))
        if t.get("citations"):
            st.caption("引用：" + "；".join(t["citations"][:8]))
        if t.get("curated"):
            st.caption(f"已按纠正 {t['curated']} 作答")
        st.button("纠正此答复", key=f"fix-{t['session_id']}-{t['turn']}-{i}", on_click=start_curating, args=(t,))


if view in ("down", "all"):
    try:
        turns = b.admin_turns(KEY, "down" if view == "down" else "all", 200)
    except AssistantError as exc:
        st.error(exc.message)
        turns = []
    if not turns:
        st.info("暂无 👎 反馈。" if view == "down" else "暂无对话。")
    else:
        st.caption(f"共 {len(turns)} 条（最新在前）。")
    for i, t in enumerate(turns):
        turn_card(t, i)
else:
    saved = st.session_state.get("admin_saved")
    if saved:
        (st.success if saved[0] == "ok" else st.error)(saved[1])
    t = st.session_state.get("admin_target")
    with st.container(border=True):
        st.markdown("**新建纠正**：写下问题，在下方条款浏览中选出回答它的条款（可多选），然后保存。")
        st.text_input("问题", key="admin_question", placeholder="例如：典型经验字数要求")
        st.text_input("说明（可选）", key="admin_note", placeholder="例如：原答复引用了无关条款")
        if t:
            st.caption(f"来自对话（{t['created_at'].replace('T', ' ')[:19]}，该会话第 {t['turn']} 轮）；原答复引用："
                       + ("；".join(t.get("citations") or []) or "无"))
        units = st.session_state.admin_units
        if units:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown("**已选条款**")
                for u in units:
                    st.button(f"{doc_short(u[0])} {u[1]}  ✕", key=f"drop-{u[0]}-{u[1]}", on_click=drop_unit, args=(u,))
        else:
            st.caption("尚未选择条款。")
        st.button("保存纠正", type="primary", on_click=save, disabled=not units)
    doc, label = (t.get("units") or [[None, None]])[0] if t else (None, None)
    ClauseBrowser("pick", pick=add_unit, picked=set(map(tuple, st.session_state.admin_units))).render(doc, label)
    st.divider()
    st.subheader("已有纠正")
    try:
        data = b.admin_curated(KEY)
    except AssistantError as exc:
        st.error(exc.message)
        data = {"pairs": [], "problems": []}
    for p in data.get("problems", []):
        st.warning(f"有一条纠正未能加载（{p['file']} 第 {p['line']} 行）：{p['reason']}")
    if not data["pairs"]:
        st.caption("暂无纠正。")
    for p in data["pairs"]:
        with st.container(border=True):
            st.markdown(f"**{md_escape(p['question'])}** → " + "、".join(p["cites"]))
            origin = "管理页保存" if p["file"] == "admin.jsonl" else "随版本提供"
            st.caption(f"{origin}　·　{p['created_at'].replace('T', ' ')[:19]}"
                       + (f"　·　{md_escape(p['note'])}" if p.get("note") else ""))
            st.button("删除", key=f"rm-{p['id']}", on_click=remove, args=(p["id"],), type="tertiary")
