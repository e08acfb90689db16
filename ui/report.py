"""试点文稿起草：the applicant fills a form, previews the draft with its citations and
checks, and downloads Markdown or DOCX. Drafting logic lives in assistant/reports."""

from __future__ import annotations

import streamlit as st
from common import backend

from assistant.errors import AssistantError

st.title("试点文稿起草")
st.caption("按表单生成试点工作总结报告、典型经验或评价申请书的草稿：要求、评分与可引用条款均为文件原文；"
           "未填写的事实以【待填写：…】标出，不会编造数字或结果。")
KIND = {"summary": "试点工作总结报告（附件1）", "experience": "典型经验（附件3 二、）",
        "application": "评价申请书（附件3）"}
fields = backend().report_fields()
kind = st.radio("文稿类型", list(KIND), format_func=KIND.get, horizontal=True, key="r_kind")

with st.form("report_form"):
    c1, c2 = st.columns(2)
    unit = c1.text_input("单位（必填）", key="r_unit")
    industry = c2.text_input("主导产业", key="r_industry")
    status: dict = {}
    indicators: dict = {}
    notes: dict = {}
    experience: dict = {}
    application: dict = {}
    if kind == "summary":
        with st.expander("第一部分 总体推进情况", expanded=True):
            cols = st.columns(2)
            for i, item in enumerate(fields["status"]):
                col = cols[i % 2]
                if item["options"]:
                    v = col.selectbox(item["name"], [None] + item["options"], key=f"r_s_{item['name']}",
                                      format_func=lambda x: x or "（未填写）")
                    if v:
                        status[item["name"]] = v
                    if item["has_amount"]:
                        amt = col.number_input(f"{item['name']}支持力度（万元）", min_value=0.0, value=None,
                                               key=f"r_a_{item['name']}")
                        if amt is not None:
                            status[f"{item['name']}支持力度（万元）"] = amt
                else:
                    n = col.number_input(item["name"], min_value=0, value=None, step=1, key=f"r_s_{item['name']}")
                    if n is not None:
                        status[item["name"]] = n
        with st.expander("主导产业主要指标"):
            for name in fields["indicators"]:
                a, b = st.columns(2)
                x = a.number_input(f"{name}｜申报时", value=None, key=f"r_i_{name}_1")
                y = b.number_input(f"{name}｜上一年", value=None, key=f"r_i_{name}_2")
                cols_ = {k: v for k, v in (("申报时", x), ("上一年", y)) if v is not None}
                if cols_:
                    indicators[name] = cols_
        with st.expander("第二部分 各部分说明（您掌握的事实）"):
            for key in fields["notes"]:
                t = st.text_area(key, key=f"r_n_{key}", height=80)
                if t.strip():
                    notes[key] = t
    elif kind == "experience":
        for part in fields["experience"]:
            t = st.text_area(part, key=f"r_e_{part}", height=120)
            if t.strip():
                experience[part] = t
    else:
        for name in ("单位负责人", "单位负责人职务", "单位负责人座机", "申报联系人", "申报联系人职务",
                     "申报联系人座机", "手机", "传真", "邮箱"):
            t = st.text_input(name, key=f"r_p_{name}")
            if t.strip():
                application[name] = t
        t = st.text_area("试点工作完成情况自我评价", key="r_p_自我评价")
        if t.strip():
            application["自我评价"] = t
    submitted = st.form_submit_button("生成草稿", type="primary")

if submitted:
    form = {"单位": unit, "主导产业": industry, "状态": status, "指标": indicators, "说明": notes,
            "典型经验": experience, "申请表": application}
    try:
        st.session_state.r_draft = backend().report_draft(kind, form)
        st.session_state.r_docx = backend().report_docx(kind, form)
        st.session_state.r_error = None
    except AssistantError as exc:
        st.session_state.r_error = exc.message
        st.session_state.r_draft = None

if st.session_state.get("r_error"):
    st.error(st.session_state.r_error)
draft = st.session_state.get("r_draft")
if draft:
    st.subheader("检查结果")
    for c in draft["checks"]:
        {"ok": st.success, "warning": st.info, "error": st.error}[c["level"]](f"{c['field']}：{c['message']}")
    st.subheader("草稿预览")
    d1, d2 = st.columns(2)
    d1.download_button("下载 Markdown", draft["markdown"].encode("utf-8"), file_name=f"{draft['title']}.md",
                       mime="text/markdown")
    d2.download_button("下载 DOCX", st.session_state.r_docx, file_name=f"{draft['title']}.docx",
                       mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    st.markdown(draft["markdown"])
