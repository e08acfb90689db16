"""试点文稿起草：the applicant fills a form and gets two documents, the draft (公文 layout, only
what is submitted) and its checklist (checks, verbatim requirements, scores, clauses worth
citing). Downloads and checks sit at the top, contradictions first. Drafting logic lives in
assistant/reports."""

from __future__ import annotations

import streamlit as st
from common import backend

from assistant.errors import AssistantError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

st.title("试点文稿起草")
st.caption("按表单生成两份文件：草稿（公文格式，只含提交的内容：表格、各部分标题和您提供的事实，缺少的事实以"
           "【待补充：…】标出，不会编造数字或结果）和检查清单（检查结果，以及各部分的原文要求、评分项和可引用条款）。")
KIND = {"summary": "试点工作总结报告（附件1）", "experience": "典型经验（附件3 二、）",
        "application": "评价申请书（附件3）"}
fields = backend().report_fields()
kind = st.radio("文稿类型", list(KIND), format_func=KIND.get, horizontal=True, key="r_kind")
results = st.container()  # downloads and checks, filled after 生成草稿, above the long form

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
        with st.expander("第一部分  总体推进情况", expanded=True):
            cols = st.columns(2)
            for i, item in enumerate(fields["status"]):
                col = cols[i % 2]
                if item["options"]:
                    v = col.selectbox(item["name"], [None] + item["options"], key=f"r_s_{item['name']}",
                                      placeholder="（未填写）",
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
        with st.expander("主导产业主要指标情况（适用时）"):
            for name in fields["indicators"]:
                a, b = st.columns(2)
                x = a.number_input(f"{name}｜申报时", value=None, key=f"r_i_{name}_1")
                y = b.number_input(f"{name}｜上一年", value=None, key=f"r_i_{name}_2")
                cols_ = {k: v for k, v in (("申报时", x), ("上一年", y)) if v is not None}
                if cols_:
                    indicators[name] = cols_
        with st.expander("第二部分  试点工作总结（您掌握的事实，每段一行）"):
            for h in fields["note_headings"]:
                t = st.text_area(h["heading"], key=f"r_n_{h['key']}", height=80)
                if t.strip():
                    notes[h["key"]] = t
    elif kind == "experience":
        for part in fields["experience"]:
            t = st.text_area(part + ("（作为标题）" if part == fields["experience"][0] else ""), key=f"r_e_{part}",
                             height=68 if part == fields["experience"][0] else 120)
            if t.strip():
                experience[part] = t
    else:
        for name in fields["application"]:
            t = st.text_input(name, key=f"r_p_{name}")
            if t.strip():
                application[name] = t
        limit = fields.get("self_assessment_limit")
        t = st.text_area(f"试点工作完成情况自我评价（限{limit}字）" if limit else "试点工作完成情况自我评价",
                         key="r_p_自我评价", height=160)
        if t.strip():
            application["自我评价"] = t
    submitted = st.form_submit_button("生成草稿", type="primary")

if submitted:
    form = {"单位": unit, "主导产业": industry, "状态": status, "指标": indicators, "说明": notes,
            "典型经验": experience, "申请表": application}
    try:
        st.session_state.r_draft = backend().report_draft(kind, form)
        st.session_state.r_docx = backend().report_docx(kind, form)
        st.session_state.r_checklist = backend().report_checklist_docx(kind, form)
        st.session_state.r_error = None
    except AssistantError as exc:
        st.session_state.r_error = exc.message
        st.session_state.r_draft = None

with results:
    if st.session_state.get("r_error"):
        st.error(st.session_state.r_error)
    draft = st.session_state.get("r_draft")
    if draft:
        d1, d2, d3 = st.columns(3)
        d1.download_button("下载草稿（DOCX）", st.session_state.r_docx, file_name=f"{draft['title']}.docx", mime=DOCX,
                           type="primary")
        d2.download_button("下载检查清单（DOCX）", st.session_state.r_checklist,
                           file_name=f"{draft['title']}-检查清单.docx", mime=DOCX)
        d3.download_button("下载草稿（Markdown）", draft["markdown"].encode("utf-8"), file_name=f"{draft['title']}.md",
                           mime="text/markdown")
        st.subheader("检查结果")
        gaps = [c for c in draft["checks"] if c["kind"] == "gap"]
        for c in draft["checks"]:  # already ordered: contradictions, structure, word counts, then gaps
            if c["kind"] == "gap":
                continue
            {"ok": st.success, "warning": st.warning, "error": st.error}[c["level"]](f"{c['label']}：{c['message']}")
        if gaps:
            st.info(f"待补充（{len(gaps)} 处，草稿中以【待补充：…】标出）：" + "；".join(c["label"] for c in gaps))
        with st.expander("草稿预览（与下载的草稿内容相同）"):
            st.markdown(draft["markdown"])
        with st.expander("检查清单：各部分的原文要求、评分项与可引用条款"):
            st.markdown(draft["checklist_markdown"])
