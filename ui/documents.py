"""文件管理：upload a standard or notice (PDF, scanned PDF, DOCX, HTML, TXT, MD), see its parse
report and a preview of the clause tree, then 确认入库; list and remove documents. The work
(extraction, OCR, embedding) is done by assistant/ingest; this page only shows it."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st
from common import backend, vocab

from assistant.corpus.model import KIND_ZH, STRENGTH_ZH
from assistant.errors import AssistantError

NATURES = {"": "自动判断（按封面代号）", "group-standard": "团体标准", "national-standard-draft": "国家标准（征求意见稿）",
           "ministry-notice": "政策文件"}
STAGE = {"extract": "提取文字", "ocr": "OCR 识别扫描页", "embed": "嵌入条款（更新索引）"}

st.title("文件管理")
if "docs_flash" in st.session_state:  # the outcome of the last removal, kept across its rerun
    st.success(st.session_state.pop("docs_flash"))
b = backend()
admin_key = st.sidebar.text_input("管理员密钥（BA_ADMIN_KEYS）", type="password", key="docs_admin_key",
                                  help="本机单用户模式（make run）无需密钥；连接远程 API 或配置了 BA_ADMIN_KEYS 时需要。") or None
can_manage = b.can_manage(admin_key)


def _progress_bar():
    bar = st.progress(0.0, text="准备中……")

    def update(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{STAGE.get(stage, stage)}：{done}/{total}")

    return bar, update


def _refresh() -> None:
    st.cache_data.clear()
    for k in [k for k in st.session_state if k.startswith("docs_report")]:
        del st.session_state[k]


tab_add, tab_list = st.tabs(["添加文件", "已入库文件"])

with tab_add:
    st.caption("支持 PDF（含扫描件，自动 OCR）、Word（.docx）、网页（.html）、纯文本（.txt）和 Markdown（.md）。"
               "先解析并预览条款树，确认无误后再入库；入库只嵌入这一份文件，失败时语料、清单和索引保持原样。")
    up = st.file_uploader("选择文件", type=["pdf", "docx", "html", "htm", "txt", "md"], key="docs_upload")
    with st.expander("文件信息（可选，默认取自封面）"):
        c1, c2 = st.columns(2)
        meta = {"doc_id": c1.text_input("文件编号", key="docs_doc_id", placeholder="如 gxas-1220-2026（默认由代号生成）") or None,
                "code": c2.text_input("文件代号（如 T/GXAS 1220—2026）", key="docs_code") or None,
                "title": c1.text_input("文件名称", key="docs_title") or None,
                "nature": c2.selectbox("文件性质", list(NATURES), format_func=NATURES.get, key="docs_nature",
                                        placeholder="请选择") or None}
    if up is not None:
        data = up.getvalue()
        digest = hashlib.sha1(data + repr(sorted(meta.items())).encode()).hexdigest()
        if st.button("解析文件", type="primary", key="docs_parse") or st.session_state.get("docs_report_key") == digest:
            if st.session_state.get("docs_report_key") != digest:
                bar, update = _progress_bar()
                try:
                    report = b.add_document(up.name, data, dry_run=True, meta=meta, progress=update)
                except AssistantError as exc:
                    bar.empty()
                    st.error(exc.message)
                    st.stop()
                bar.empty()
                st.session_state.docs_report = report
                st.session_state.docs_report_key = digest
            r = st.session_state.docs_report
            st.subheader(f"解析报告：《{r['title']}》")
            m = st.columns(4)
            m[0].metric("可引用单元", len(r["units"]))
            m[1].metric("页数", r["pages"] or "—")
            m[2].metric("OCR", f"{r['ocr_confidence']:.3f}" if r["ocr"] and r["ocr_confidence"] is not None else "未使用")
            m[3].metric("警告", len(r["warnings"]))
            st.markdown(f"文件编号 `{r['doc_id']}`　代号 {r['code'] or '（无）'}　性质 {r['kind']}"
                        + (f"　发布机构 {r['issuer']}" if r.get("issuer") else ""))
            st.caption("按类型：" + "、".join(f"{KIND_ZH.get(k, k)} {v}" for k, v in sorted(r["by_kind"].items()))
                       + "；按强度：" + "、".join(f"{STRENGTH_ZH.get(k, k)} {v}" for k, v in sorted(r["by_strength"].items())))
            for w in r["warnings"]:
                st.warning(w)
            if r["unplaced"]:
                with st.expander(f"未归入条款的行（{len(r['unplaced'])}）"):
                    st.dataframe(pd.DataFrame(r["unplaced"]), hide_index=True, width="stretch")
            with st.expander("条款树预览", expanded=True):
                depth: dict[str, int] = {}
                rows = []
                for u in r["units"]:
                    depth[u["label"]] = depth.get(u["parent"], -1) + 1 if u["parent"] else 0
                    text = (u["title"] or "") + ("　" if u["title"] and u["text"] else "") + (u["text"] or "")
                    rows.append({"条款": "　" * depth[u["label"]] + u["label"], "类型": KIND_ZH.get(u["kind"], u["kind"]),
                                 "强度": STRENGTH_ZH.get(u["strength"], u["strength"]), "原文": text[:200]})
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=420)
            exists = any(d["doc_id"] == r["doc_id"] for d in vocab()["documents"])
            replace = False
            if exists:
                st.info(f"知识库中已有 {r['doc_id']}：确认入库将以此文件替换旧版本。")
                replace = st.checkbox("替换旧版本", key="docs_replace")
            if not can_manage:
                st.warning("需要管理员密钥才能入库（左侧栏输入）。")
            if st.button("确认入库", type="primary", disabled=not can_manage or (exists and not replace),
                         key="docs_commit"):
                bar, update = _progress_bar()
                try:
                    done = b.add_document(up.name, data, dry_run=False, replace=replace, meta=meta, progress=update,
                                          admin_key=admin_key)
                except AssistantError as exc:
                    bar.empty()
                    st.error(exc.message)
                    st.stop()
                bar.empty()
                _refresh()
                idx = done.get("index") or {}
                pending = sum((idx.get("dense_pending") or {}).values())
                st.success(f"{'已替换' if done.get('replaced') else '已入库'}：{done['doc_id']}《{done['title']}》，"
                           f"{len(done['units'])} 个单元，现已可检索。" +
                           (f"语义向量正在后台计算（{pending} 个条款），完成前该文件按关键词检索；"
                            "「已入库文件」中可查看状态。" if pending else ""))

with tab_list:
    docs = b.documents()  # not the cached list: the vectors' state changes in the background
    table = pd.DataFrame([{"文件编号": d["doc_id"], "代号": d["code"], "名称": d["title"], "性质": d["kind"],
                           "单元": d["units"], "来源": d.get("format", ""), "添加时间": d.get("added", ""),
                           "语义向量": "计算中" if d.get("vectors_pending") else "就绪"}
                          for d in docs])
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown("**删除文件**")
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox("文件", [d["doc_id"] for d in docs], key="docs_remove_id", placeholder="请选择文件",
                          format_func=lambda x: next(f"{d['doc_id']}｜{d['title']}" for d in docs if d["doc_id"] == x))
    sure = st.checkbox("确认删除（从语料、清单和索引中移除，不可撤销）", key="docs_remove_sure")
    if c2.button("删除", disabled=not (can_manage and sure), key="docs_remove"):
        try:
            with st.spinner("正在删除并更新索引……"):
                b.remove_document(target, admin_key=admin_key)
        except AssistantError as exc:
            st.error(exc.message)
        else:
            _refresh()
            st.session_state.docs_flash = f"已删除：{target}（语料、清单和索引均已更新）"
            st.rerun()
