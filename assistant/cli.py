"""`brand-assistant` command line.

Every read command takes --json. Usage errors and unknown documents/clauses exit 2
with a clear Chinese message on stderr; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import re
import json
import sys
from pathlib import Path
from collections import Counter
from typing import Callable

from assistant.corpus.model import KIND_ZH, SKIP_ZH, STRENGTH_ZH
from assistant.errors import AssistantError
from assistant.settings import ROOT, get_settings

EXIT_USAGE = 2


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _load_corpus():
    from assistant.corpus.store import load_corpus

    corpus = load_corpus(get_settings().corpus_dir)
    for err in corpus.errors:
        print(f"警告：{err.message}", file=sys.stderr)
    return corpus


# --- corpus -------------------------------------------------------------------

def cmd_corpus_stats(args: argparse.Namespace) -> int:
    corpus = _load_corpus()
    rows = []
    for doc in corpus.documents.values():
        rows.append({
            "doc_id": doc.doc_id,
            "code": doc.spec.code,
            "title": doc.spec.title,
            "units": len(doc.units),
            "by_kind": dict(Counter(u.kind for u in doc.units)),
            "by_strength": dict(Counter(u.strength for u in doc.units)),
            "skipped_lines": dict(Counter(s.reason for s in doc.skipped)),
        })
    if args.json:
        _print_json({"documents": rows, "errors": [e.message for e in corpus.errors]})
        return 0
    total = sum(r["units"] for r in rows)
    print(f"语料：{len(rows)} 份文件，共 {total} 个可引用单元\n")
    for r in rows:
        print(f"{r['doc_id']}  {r['code'] or r['title']}  《{r['title']}》")
        print(f"  单元 {r['units']} 个；类型 " + "、".join(f"{KIND_ZH.get(k, k)} {v}" for k, v in sorted(r["by_kind"].items())))
        print("  强度 " + "、".join(f"{STRENGTH_ZH.get(k, k)} {v}" for k, v in sorted(r["by_strength"].items())))
        if r["skipped_lines"]:
            print("  未入单元的行（封面/目次/分页等） " + "、".join(f"{SKIP_ZH.get(k, k)} {v}" for k, v in r["skipped_lines"].items()))
    return 0


def cmd_clause(args: argparse.Namespace) -> int:
    corpus = _load_corpus()
    doc = corpus.doc(args.doc_id)
    unit = doc.find(args.label)
    children = doc.children(unit)
    if args.json:
        out = unit.to_dict()
        out["doc_code"] = doc.spec.code
        out["doc_title"] = doc.spec.title
        out["full_text"] = doc.full_text(unit)
        out["children"] = [c.to_dict() for c in children]
        _print_json(out)
        return 0

    print(f"{doc.spec.cite(unit.label)} {unit.title or ''}".rstrip())
    if unit.heading_path:
        print(f"位置：{unit.heading_path}")
    print(f"类型：{KIND_ZH.get(unit.kind, unit.kind)}  强度：{STRENGTH_ZH[unit.strength]}"
          + ("（承接引导语）" if unit.strength_inherited else "")
          + f"  行：{unit.line_start}–{unit.line_end}")
    if unit.roles:
        print("角色：" + "、".join(unit.roles))
    if unit.phases:
        print("阶段：" + "、".join(unit.phases))
    print(f"上级：{unit.parent or '（无）'}")
    if unit.text:
        print("\n" + unit.text)
    for c in children:
        print(f"  {c.label}  {c.title or c.text[:60]}")
    return 0


# --- index / search / eval -----------------------------------------------------

def _run_batch(path: str, noun: str, handle: Callable[[dict], dict]) -> int:
    """JSONL in, one JSON line out per input line; a bad line gets an error line, the rest go on."""
    from assistant.errors import InvalidQueryError

    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as exc:
        print(f"错误：无法读取 {path}：{exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            out = {"id": item.get("id", n), **handle(item)}
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            out = {"id": n, "error": f"第 {n} 行不是合法的{noun}（需要 JSON，含 query 字段）"}
        except InvalidQueryError as exc:
            out = {"id": n, "error": exc.message}
        print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from assistant.service import rebuild_index

    bar = tqdm(total=0, desc="嵌入条款", unit="条", disable=args.json)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    meta = rebuild_index(get_settings(), progress=progress, force=args.force)
    bar.close()
    if args.json:
        _print_json(meta)
    else:
        print(f"索引完成：{meta['nodes']} 个条款节点，本次嵌入 {meta['embedded_now']} 个"
              f"（变更文件：{'、'.join(meta['reembedded_docs']) or '无'}），用时 {meta['build_seconds']} 秒。")
    return 0


def _filters_from(args: argparse.Namespace, extra: dict | None = None):
    from assistant.retrieval.retriever import SearchFilters

    extra = extra or {}
    return SearchFilters(
        doc_ids=extra.get("doc_ids", args.doc or []),
        roles=extra.get("roles", args.role or []),
        phases=extra.get("phases", args.phase or []),
        strengths=extra.get("strengths", args.strength or []),
    )


def _hit_json(h) -> dict:
    return {"doc_id": h.doc_id, "clause": h.label, "score": round(h.score, 4), "title": h.title,
            "heading_path": h.heading_path, "text": h.text, "strength": h.strength,
            "roles": h.roles, "phases": h.phases, "matched_items": h.matched_children}


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.service import make_retriever, open_index

    settings = get_settings()
    if not args.queries and not args.query:
        print("参数错误：请给出问题，或用 --queries FILE.jsonl 批量检索。", file=sys.stderr)
        return EXIT_USAGE
    index = open_index(settings)
    retriever = make_retriever(index, settings)
    if args.queries:
        return _run_batch(args.queries, "查询", lambda item: {"hits": [_hit_json(h) for h in retriever.search(
            item["query"], _filters_from(args, item.get("filters") or {}), top_k=args.top_k)]})
    hits = retriever.search(args.query, _filters_from(args), top_k=args.top_k)
    if args.json:
        _print_json({"query": args.query, "hits": [_hit_json(h) for h in hits]})
        return 0

    corpus = index.corpus
    if not hits:
        print("没有找到相关条款。")
    for i, h in enumerate(hits, 1):
        cite = corpus.doc(h.doc_id).spec.cite_name
        print(f"{i}. 〔{cite} {h.label}〕 {h.title}  [{STRENGTH_ZH[h.strength]}] {h.score:.3f}")
        if h.heading_path:
            print(f"   {h.heading_path}")
        if h.text:
            print("   " + h.text.replace("\n", " ")[:120])
        for c in h.matched_children[:5]:
            print(f"   · {c} {corpus.clause(h.doc_id, c).text[:80]}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import tempfile
    import time as _time

    from assistant.chat.service import ChatService
    from assistant.chat.sessions import SessionStore
    from assistant.evaluation import (
        check_answer_regressions,
        check_regressions,
        format_answer_table,
        format_table,
        load_eval_set,
        run_answer_eval,
        run_eval,
    )
    from assistant.service import make_retriever, open_index
    from assistant.settings import ROOT

    settings = get_settings()
    index = open_index(settings)
    gold_dir = Path(args.gold) if args.gold else ROOT / "evals" / "gold"
    evalset = load_eval_set(gold_dir, index.corpus, strict=not args.lenient)
    for u in evalset.unresolved:
        print(f"警告：金标准条款不存在（计为未命中）：{u}", file=sys.stderr)
    report: dict = {"configs": {}}
    if not args.answers_only:
        report = run_eval(index, evalset.answerable, args.config or None)
    if not args.no_answers:
        with tempfile.TemporaryDirectory() as tmp:  # eval sessions never mix with users'
            chat = ChatService(index, make_retriever(index, settings), settings,
                               store=SessionStore(Path(tmp) / "eval.sqlite3"))
            report["answers"] = run_answer_eval(chat, evalset)
            # every admin correction is a regression test, reported on its own (not mixed into
            # the set's figures): the curated pairs as gold rows
            curated = chat.retriever.curated.eval_set() if chat.retriever.curated is not None else None
            if curated is not None and curated.questions and not args.no_curated:
                report["curated"] = run_answer_eval(chat, curated, retrieval=False)
    out_dir = ROOT / "evals" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = _time.strftime("%Y%m%d-%H%M%S")
    out = out_dir / f"eval-{gold_dir.name}-{stamp}.json"
    report["index"] = {k: index.meta.get(k) for k in ("embedding", "dimension", "dictionary_sha256")}
    report["gold_dir"] = str(gold_dir)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "latest.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    # floors in regressions.toml: [answers]/[hybrid]… for evals/gold, [blind-answers] for evals/blind
    regress = ROOT / "evals" / "regressions.toml"
    failures: list[str] = []
    if gold_dir.resolve() == (ROOT / "evals" / "gold").resolve():
        failures = check_regressions(report, regress)
        if "answers" in report:
            failures += check_answer_regressions(report["answers"], regress, "answers")
    elif "answers" in report:
        failures = check_answer_regressions(report["answers"], regress, f"{gold_dir.name}-answers")
    if args.json:
        _print_json({**report, "regressions": failures})
    else:
        print(f"评测集 {gold_dir}：{len(evalset.answerable)} 个可回答问题，{len(evalset.unanswerable)} 个不可回答问题，"
              f"{len(evalset.dialogues)} 段对话")
        if report["configs"]:
            print(format_table(report))
        if "answers" in report:
            print(format_answer_table(report["answers"]))
        if "curated" in report:
            c = report["curated"]
            print(f"纠正集（{settings.curated_path}，{c['answerable']} 条问题 → 条款，单独报告）：answer_hit {c['answer_hit']}，"
                  f"answered_rate {c['answered_rate']}" + (f"；未命中：{'、'.join(c['missed'])}" if c.get("missed") else ""))
        print(f"结果已写入 {out}")
        for f in failures:
            print(f"回退：{f}", file=sys.stderr)
    return 1 if failures else 0


def cmd_fit_evidence(args: argparse.Namespace) -> int:
    from assistant.answer.evidence import EvidenceJudge
    from assistant.evaluation.fit_evidence import OFFDOMAIN_MAX_LOSS, run, run_offdomain
    from assistant.evaluation.sets import load_eval_set
    from assistant.service import make_retriever, open_index

    settings = get_settings()
    index = open_index(settings)
    # fitted on retrieval alone: curated pairs (admin corrections) would answer some of the
    # calibration questions by lookup and bias the fit
    judge = EvidenceJudge(index, make_retriever(index, settings, curated=None), None)
    sets = args.gold or [str(ROOT / "evals" / n) for n in ("calibration", "calibration2", "calibration3")]
    cal = [q for d in sets for q in load_eval_set(Path(d), index.corpus, strict=False).questions]
    names = [Path(d).name for d in sets]
    others = {Path(d).name: load_eval_set(Path(d), index.corpus, strict=False).questions for d in args.report or []}
    out = None if args.dry_run else Path(args.out)
    report = run(judge, cal, others, out, c=args.c, sources=names)
    off = run_offdomain(judge, cal, None if args.dry_run else Path(args.out_offdomain), c=args.c, sources=names)
    if args.json:
        _print_json({"answered": report, "none": off})
        return 0
    print(f"拟合集 {'、'.join(names)}：{report['n']} 个问题，交叉验证 ROC AUC {report['cv_auc']}")
    print("系数（标准化特征）：" + "，".join(f"{k} {v}" for k, v in report["coef"].items()))
    cols = ("threshold", "answered_rate", "near_domain_answered", "answered_precision", "off_domain_answered")
    print("交叉验证（折外）阈值扫描：\n  " + "  ".join(cols))
    for row in report["cv_sweep"]:
        print("  " + "  ".join(f"{row[c]:>{len(c)}}" for c in cols))
    for name, o in report["others"].items():
        print(f"{name}（全量拟合的模型，不参与拟合）：ROC AUC {o['auc']}")
        for row in o["sweep"]:
            print("  " + "  ".join(f"{row[c]:>{len(c)}}" for c in cols))
    print(f"“无依据”判定（领域外问题 {off['off_domain']} 个 / 共 {off['n']} 个）：交叉验证 ROC AUC {off['cv_auc']}，"
          f"阈值 {off['threshold']}（折外可回答问题判为无依据的比例不超过 {OFFDOMAIN_MAX_LOSS} 中最低的阈值）")
    print("系数（标准化特征）：" + "，".join(f"{k} {v}" for k, v in off["coef"].items()))
    cols = ("threshold", "answerable_none", "near_domain_none", "off_domain_none")
    print("交叉验证（折外）阈值扫描：\n  " + "  ".join(cols))
    for row in off["cv_sweep"]:
        print("  " + "  ".join(f"{row[c]:>{len(c)}}" for c in cols))
    if out:
        print(f"模型已写入 {out} 与 {args.out_offdomain}")
    return 0


# --- ask / chat -------------------------------------------------------------------

def _answer_json(answer, session_id: str, turn: int) -> dict:
    from assistant.api.convert import ask_response

    return ask_response(answer, session_id, turn).model_dump()


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import make_chat

    if not args.queries and not args.question:
        print("参数错误：请给出问题，或用 --queries FILE.jsonl 批量提问。", file=sys.stderr)
        return EXIT_USAGE
    chat = make_chat(get_settings())
    if args.queries:
        def one(item: dict) -> dict:
            f = item.get("filters") or {}
            answer, sid, turn = chat.ask(item["query"] if "query" in item else item["question"],
                                         role=item.get("role") or (f.get("roles") or [None])[0],
                                         phase=item.get("phase") or (f.get("phases") or [None])[0],
                                         doc_ids=item.get("doc_ids") or f.get("doc_ids"),
                                         session_id=item.get("session_id"))
            return _answer_json(answer, sid, turn)

        return _run_batch(args.queries, "提问", one)
    answer, sid, turn = chat.ask(args.question, role=args.role, phase=args.phase, doc_ids=args.doc,
                                 session_id=args.session)
    if args.json:
        _print_json(_answer_json(answer, sid, turn))
    else:
        print(answer.answer)
        print(f"\n（会话 {sid}，第 {turn} 轮；追问请加 --session {sid}）")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.errors import AssistantError as _Err
    from assistant.service import make_chat

    chat = make_chat(get_settings())
    sid = args.session
    print("区域品牌培育问答助手。输入问题后回车；输入 /new 开始新会话，/quit 退出。")
    while True:
        try:
            q = input("\n问> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if q in ("/quit", "/exit", "退出"):
            return 0
        if q == "/new":
            sid = None
            print("已开始新会话。")
            continue
        if not q:
            continue
        try:
            answer, sid, _ = chat.ask(q, session_id=sid)
        except _Err as exc:
            print(f"提示：{exc.message}")
            continue
        print(answer.answer)


# --- report drafting -----------------------------------------------------------------

def cmd_report_draft(args: argparse.Namespace) -> int:
    from assistant.reports.draft import Drafter
    from assistant.reports.export import LEVEL_ZH, checklist_docx, checklist_markdown, to_dict, to_docx, to_markdown
    from assistant.reports.form import load_form, parse_form

    corpus = _load_corpus()
    form = parse_form(load_form(Path(args.input)), corpus)
    draft = Drafter(corpus).draft(args.type, form)
    if args.out:
        out = Path(args.out)
        suffix = out.suffix.lower()
        checklist = out.with_name(f"{out.stem}-检查清单{'.md' if suffix in ('.md', '.pdf') else out.suffix}")
        if suffix == ".docx":
            out.write_bytes(to_docx(draft))
            checklist.write_bytes(checklist_docx(draft))
        elif suffix == ".pdf":
            import tempfile

            from assistant.reports.render import docx_to_pdf

            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / f"{out.stem}.docx"
                src.write_bytes(to_docx(draft))
                out.write_bytes(docx_to_pdf(src, Path(tmp)).read_bytes())
            checklist.write_text(checklist_markdown(draft), encoding="utf-8")
        elif suffix == ".json":
            out.write_text(json.dumps(to_dict(draft), ensure_ascii=False, indent=2), encoding="utf-8")
            checklist = None
        else:
            out.write_text(to_markdown(draft), encoding="utf-8")
            checklist.write_text(checklist_markdown(draft), encoding="utf-8")
        print(f"已写入草稿 {out}" + (f"，检查清单 {checklist}" if checklist else ""))
    elif args.json:
        _print_json(to_dict(draft))
    else:
        print(to_markdown(draft, with_checks=True))
    if args.out:
        for c in draft.checks:
            print(f"[{LEVEL_ZH[c.level]}] {c.label}：{c.message}", file=sys.stderr)
    return 1 if any(c.level == "error" for c in draft.checks) else 0


# --- documents (knowledge-base management) ----------------------------------------

def cmd_documents_add(args: argparse.Namespace) -> int:
    from assistant.corpus.vocab import load_vocab
    from assistant.ingest.ocr import OcrOptions, make_engine
    from assistant.ingest.pipeline import ingest_file, summary_lines

    settings = get_settings()
    bar = None

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if args.json:
            return
        from tqdm import tqdm

        desc = {"extract": "提取文字", "ocr": "OCR 识别", "embed": "嵌入条款"}.get(stage, stage)
        if bar is None or bar.desc != desc:
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc=desc, unit="页" if stage != "embed" else "条")
        bar.total = total
        bar.n = done
        bar.refresh()

    path = Path(args.file)
    ocr = make_engine(settings.ocr_engine, OcrOptions.from_settings(settings))
    result = ingest_file(path, load_vocab(settings.vocab_dir), doc_id=args.doc_id, code=args.code,
                         title=args.title, nature=args.nature, issuer=args.issuer, ocr_engine=ocr,
                         max_bytes=int(settings.max_upload_mb * 2**20), progress=progress)
    if args.dry_run:
        if bar is not None:
            bar.close()
        if args.json:
            _print_json(result.report())
        else:
            print("\n".join(summary_lines(result)))
            print("\n（试运行：未写入语料与索引）")
        return 0
    from assistant.ingest.kb import KnowledgeBase

    # searchable by its words as soon as it is in; its passage vectors follow (ingest/kb.py)
    kb = KnowledgeBase(settings)
    meta = kb.add(result, path, replace=args.replace, progress=progress, defer_vectors=not args.wait_vectors)
    if not args.json:
        print("\n".join(summary_lines(result)))
        verb = "已替换" if meta.get("replaced") else "已入库"
        print(f"\n{verb}：{result.spec.doc_id}《{result.spec.title}》，{len(result.units)} 个单元，"
              f"用时 {meta.get('seconds', 0)} 秒，现已可检索。", flush=True)
    vectors = None
    if meta.get("dense_pending"):
        if not args.json:
            print(f"正在计算语义向量（{sum(meta['dense_pending'].values())} 个条款；完成前按关键词检索）……",
                  flush=True)
        vectors = kb.complete_vectors(progress=progress)
    if bar is not None:
        bar.close()
    if args.json:
        _print_json({**result.report(), "added": True, "index": meta, "vectors": vectors})
    elif vectors is not None:
        print(f"语义向量已完成：{vectors.get('embedded_now', 0)} 个条款，用时 {vectors.get('seconds', 0)} 秒。")
    return 0


def cmd_documents_list(args: argparse.Namespace) -> int:
    from assistant.ingest.kb import KnowledgeBase

    rows = KnowledgeBase(get_settings()).list()
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        print(f"{r['doc_id']:28} {r['code'] or '（无代号）':24} 《{r['title']}》 {r['units']} 个单元"
              + (f"  来源 {r['format']}" if r.get("format") else "") + ("" if r["loaded"] else "  【未能加载】"))
    return 0


def cmd_documents_remove(args: argparse.Namespace) -> int:
    from assistant.ingest.kb import KnowledgeBase

    meta = KnowledgeBase(get_settings()).remove(args.doc_id)
    print(f"已删除：{args.doc_id}《{meta['title']}》；索引已更新（用时 {meta.get('seconds', 0)} 秒）。")
    return 0


# --- serve -----------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from assistant.service import finish_pending_vectors, open_corpus, open_index

    if args.workers > 1 and not os.environ.get("BA_EMBED_THREADS"):
        # one numpy thread per worker: several workers x several threads oversubscribe 2 cores
        os.environ["BA_EMBED_THREADS"] = "1"
        get_settings.cache_clear()
    settings = get_settings()
    corpus = open_corpus(settings)
    if corpus.errors:
        # nothing is built or deleted from a partial corpus; the API starts, not ready
        for err in corpus.errors:
            print(f"语料文件未能加载：{err.message}", file=sys.stderr)
        print("服务以未就绪状态启动：/readyz 返回 503 并列出上述文件，检索与问答返回 503；索引未作任何改动。"
              "修正文件后重新启动。", file=sys.stderr)
    else:
        # build or validate the index once, here, so that workers only open it
        index = open_index(settings, rebuild="auto", corpus=corpus)
        if index.vectors_pending:
            print("补算上次添加文件的语义向量……", flush=True)
        index = finish_pending_vectors(settings, index)
        where = f"Chroma 服务器 {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "内嵌 chromadb"
        print(f"索引就绪：{len(index.nodes)} 个条款节点（{where}）。")
    if not settings.api_key_list and not settings.open_mode:
        print("提示：未配置 BA_API_KEYS，也未开启 BA_OPEN_MODE=1；除 /healthz、/readyz 外的请求都会被拒绝（401）。",
              file=sys.stderr)
    print(f"API 地址：http://{args.host}:{args.port}/docs （{args.workers} 个工作进程）")
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1;
    # the app trusts it only from BA_TRUSTED_PROXIES (middleware.client_ip)
    uvicorn.run("assistant.api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", access_log=False, proxy_headers=False)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """The Streamlit chat UI, with the index loading while the server starts (so the first
    visitor does not wait for it), from the repository root (.streamlit/config.toml)."""
    import os

    from streamlit.web import cli as stcli

    from assistant.settings import ROOT
    from assistant.ui_backend import warm

    settings = get_settings()
    if not args.no_warm:
        warm(settings)
    os.chdir(ROOT)
    sys.argv = ["streamlit", "run", str(ROOT / "ui" / "app.py"), "--server.address", args.host,
                "--server.port", str(args.port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--client.toolbarMode", "minimal"]
    return stcli.main()


def cmd_curated(args: argparse.Namespace) -> int:
    from assistant.service import open_corpus, open_curated

    settings = get_settings()
    corpus = open_corpus(settings)
    store = open_curated(settings, corpus)
    if args.action == "export":
        out = store.export(Path(args.out))
        print(f"已导出 {len(store.pairs)} 条纠正为金标准行：{out}（评测：brand-assistant eval --gold {out.parent}）")
    elif args.action == "add":
        units = []
        for u in args.unit or []:
            doc_id, _, label = u.partition(":")
            units.append((doc_id.strip(), label.strip()))
        pair = store.add(args.question or "", units, note=args.note or "", author="cli")
        print(f"已保存纠正 {pair.id}：{pair.question} → " + "、".join(corpus.doc(d).spec.cite(lab) for d, lab in pair.units))
    elif args.action == "remove":
        if not store.remove(args.id or ""):
            print(f"没有编号为 {args.id} 的纠正。", file=sys.stderr)
            return EXIT_USAGE
        print(f"已删除纠正 {args.id}。")
    else:
        if args.json:
            _print_json({"pairs": [p.to_dict() for p in store.pairs], "problems": store.problems})
        else:
            for p in store.pairs:
                print(f"{p.id}  {p.question} → " + "、".join(corpus.doc(d).spec.cite(lab) for d, lab in p.units)
                      + f"  （{p.file}）")
            print(f"共 {len(store.pairs)} 条纠正（{store.path}）。")
        for pr in store.problems:
            print(f"未能加载：{pr['file']} 第 {pr['line']} 行：{pr['reason']}", file=sys.stderr)
    return 1 if store.problems else 0


def cmd_chroma_serve(args: argparse.Namespace) -> int:
    from assistant.chroma_proxy import check_bind_address, serve

    settings = get_settings()
    if not settings.chroma_token:
        print("错误：请设置 CHROMA_TOKEN（或 BA_CHROMA_TOKEN）：Chroma 服务器只在检查令牌时运行。", file=sys.stderr)
        return EXIT_USAGE
    problem = check_bind_address(args.host)
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return EXIT_USAGE
    return serve(Path(args.path), args.host, args.port, settings.chroma_token, args.chroma_port)


# --- parser -------------------------------------------------------------------

# argparse's own messages (it has no Chinese catalogue), as an operator reads them
_ARGPARSE_ZH = [
    (re.compile(r"the following arguments are required: (.+)"), r"缺少必需的参数：\1"),
    (re.compile(r"unrecognized arguments: (.+)"), r"无法识别的参数：\1"),
    (re.compile(r"argument (\S+): invalid choice: (\S+) \(choose from (.+)\)"), r"参数 \1 的取值 \2 无效（可选：\3）"),
    (re.compile(r"argument (\S+): expected one argument"), r"参数 \1 需要一个值"),
    (re.compile(r"argument (\S+): invalid (\w+) value: (.+)"), r"参数 \1 的值 \3 不是有效的 \2"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), r"参数 \1 不能与 \2 同时使用"),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: Chinese message, exit 2
        self.print_usage(sys.stderr)
        for pattern, zh in _ARGPARSE_ZH:
            message = pattern.sub(zh, message)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)

    def format_usage(self) -> str:
        return super().format_usage().replace("usage: ", "用法：", 1)

    def format_help(self) -> str:
        return (super().format_help().replace("usage: ", "用法：", 1)
                .replace("positional arguments:", "位置参数：").replace("options:", "选项：")
                .replace("show this help message and exit", "显示本帮助并退出"))


def cmd_ocr_models(args: argparse.Namespace) -> int:
    """Rewrite the wheel's OCR models for speed (set-up; assistant/ingest/ocrmodels.py)."""
    from assistant.ingest import ocrmodels

    model_dir = Path(args.dir) if args.dir else Path(get_settings().ocr_model_dir)
    if args.check:
        built = ocrmodels.is_built(model_dir)
        print(f"OCR 模型{'已改写' if built else '尚未改写（使用 rapidocr 自带模型，速度约慢一倍）'}：{model_dir}")
        return 0 if built else 1
    try:
        report = ocrmodels.build(model_dir)
    except ImportError:
        print("改写 OCR 模型需要 onnx 包（pip install onnx）；未改写时使用 rapidocr 自带模型，结果相同、速度较慢。",
              file=sys.stderr)
        return 1
    if args.json:
        _print_json(report)
    else:
        print(f"OCR 模型已改写：{model_dir}（检测：{report['det']}，识别：{report['rec']}；"
              f"与原模型输出的最大差异 {max(report['det_max_diff'], report['rec_max_diff']):.1e}）")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="brand-assistant", description="区域品牌培育标准与政策问答助手")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    corpus = sub.add_parser("corpus", help="语料统计")
    csub = corpus.add_subparsers(dest="corpus_command", required=True, parser_class=_Parser)
    stats = csub.add_parser("stats", help="各文件的单元数（按类型、强度）")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_corpus_stats)

    clause = sub.add_parser("clause", help="查看某一条款")
    clause.add_argument("doc_id")
    clause.add_argument("label")
    clause.add_argument("--json", action="store_true")
    clause.set_defaults(func=cmd_clause)

    index = sub.add_parser("index", help="构建/更新索引（只重新嵌入有变化的文件）")
    index.add_argument("--force", action="store_true", help="全部重建")
    index.add_argument("--json", action="store_true")
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", help="检索条款")
    search.add_argument("query", nargs="?")
    search.add_argument("-k", "--top-k", type=int, default=10)
    search.add_argument("--doc", action="append", help="限定文件（可重复）")
    search.add_argument("--role", action="append", help="限定角色（可重复）")
    search.add_argument("--phase", action="append", help="限定阶段（可重复）")
    search.add_argument("--strength", action="append", choices=["shall", "should", "may", "shall-not", "none"])
    search.add_argument("--queries", help="批量：JSONL 文件，每行 {id, query, filters}")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="提问，得到带条款引用的答复")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--role")
    ask.add_argument("--phase")
    ask.add_argument("--doc", action="append")
    ask.add_argument("--session", help="继续某个会话（追问）")
    ask.add_argument("--queries", help="批量：JSONL 文件，每行 {id, query, role?, phase?, doc_ids?, session_id?}")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="交互式多轮问答")
    chat.add_argument("--session")
    chat.set_defaults(func=cmd_chat)

    report = sub.add_parser("report", help="起草试点文稿（总结报告、典型经验、评价申请书）")
    rsub = report.add_subparsers(dest="report_command", required=True, parser_class=_Parser)
    rd = rsub.add_parser("draft", help="按表单起草，附条款引用与检查结果")
    rd.add_argument("--type", required=True, choices=["summary", "experience", "application"])
    rd.add_argument("--input", required=True, help="表单文件（.toml 或 .json），示例见 docs/sample_form.toml")
    rd.add_argument("--out", help="输出文件：.docx、.md、.pdf（需 LibreOffice）或 .json；检查清单另存为「文件名-检查清单」。"
                                  "不给则打印 Markdown（草稿在前，检查清单在后）")
    rd.add_argument("--json", action="store_true")
    rd.set_defaults(func=cmd_report_draft)

    docs = sub.add_parser("documents", help="知识库管理：添加（PDF、扫描件、DOCX、HTML、TXT、MD）、列出、删除文件")
    dsub = docs.add_subparsers(dest="documents_command", required=True, parser_class=_Parser)
    da = dsub.add_parser("add", help="添加文件：提取文字、解析条款、写入语料并增量更新索引")
    da.add_argument("file", help=".pdf（含扫描件）、.docx、.html/.htm、.txt、.md")
    da.add_argument("--doc-id", help="文件编号（默认取自封面的代号，如 gxas-1220-2026）")
    da.add_argument("--code", help="文件代号，如 \"T/GXAS 1220—2026\"（默认取自封面；政策文件可为空）")
    da.add_argument("--title", help="文件名称（默认取自封面）")
    da.add_argument("--nature", choices=["group-standard", "national-standard-draft", "ministry-notice"],
                    help="文件性质（默认按代号判断：T/… 团体标准，GB/T…征求意见稿，无代号为政策文件）")
    da.add_argument("--issuer", help="发布机构（默认取自封面“…发布”或通知的落款）")
    da.add_argument("--replace", action="store_true", help="替换同编号的旧版本")
    da.add_argument("--wait-vectors", action="store_true",
                    help="入库前先算完语义向量（默认先入库、可按关键词检索，随后补算向量）")
    da.add_argument("--dry-run", action="store_true", help="只输出解析报告，不写入任何内容")
    da.add_argument("--json", action="store_true")
    da.set_defaults(func=cmd_documents_add)
    dl = dsub.add_parser("list", help="列出知识库中的文件")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_documents_list)
    dr = dsub.add_parser("remove", help="删除文件（语料、清单与索引）")
    dr.add_argument("doc_id")
    dr.set_defaults(func=cmd_documents_remove)

    serve = sub.add_parser("serve", help="启动 HTTP API（uvicorn）")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=cmd_serve)

    om = sub.add_parser("ocr-models", help="改写 OCR 模型以提速（安装时运行一次；结果不变）")
    om.add_argument("--dir", help="写入目录（默认 BA_OCR_MODEL_DIR）")
    om.add_argument("--check", action="store_true", help="只检查是否已改写")
    om.add_argument("--json", action="store_true")
    om.set_defaults(func=cmd_ocr_models)

    ui = sub.add_parser("ui", help="启动问答界面（Streamlit；启动时即加载索引）")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=8501)
    ui.add_argument("--no-warm", action="store_true", help="不在启动时加载索引")
    ui.set_defaults(func=cmd_ui)

    cu = sub.add_parser("curated", help="管理员纠正（问题 → 条款，corpus/curated/*.jsonl）：列出、添加、删除、导出为金标准")
    cu.add_argument("action", choices=["list", "add", "remove", "export"])
    cu.add_argument("--question", help="add：问题")
    cu.add_argument("--unit", action="append", help="add：条款，写成 文件编号:条款标号，可重复（如 gxas-1220-2026:6.4.4 b)）")
    cu.add_argument("--note", help="add：说明")
    cu.add_argument("--id", help="remove：纠正编号")
    cu.add_argument("--out", default="evals/curated", help="export：输出目录（写入 questions.jsonl）")
    cu.add_argument("--json", action="store_true")
    cu.set_defaults(func=cmd_curated)

    cs = sub.add_parser("chroma-serve", help="启动需令牌的 Chroma 服务器（chroma run 只监听回环，前置鉴权代理）")
    cs.add_argument("--path", required=True, help="向量数据目录")
    cs.add_argument("--host", default="127.0.0.1", help="监听地址：回环或内网接口（默认 127.0.0.1）")
    cs.add_argument("--port", type=int, default=8000)
    cs.add_argument("--chroma-port", type=int, help="内部 chroma run 的回环端口（默认自动选择）")
    cs.set_defaults(func=cmd_chroma_serve)

    ev = sub.add_parser("eval", help="在金标准上评测检索")
    ev.add_argument("--config", action="append", help="只评测这些检索配置（可重复）")
    ev.add_argument("--no-answers", action="store_true", help="只评测检索")
    ev.add_argument("--answers-only", action="store_true", help="只评测答复")
    ev.add_argument("--gold", help="评测集目录（默认 evals/gold）：项目金标准格式，或外部样本格式"
                    "（questions.jsonl / unanswerable.jsonl / dialogues.jsonl，如 evals/blind）")
    ev.add_argument("--lenient", action="store_true", help="金标准条款不存在时只警告（计为未命中），不报错")
    ev.add_argument("--no-curated", action="store_true", help="不单独评测纠正集（corpus/curated）")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)

    fe = sub.add_parser("fit-evidence", help="在校准集上拟合答复证据判定与“无依据”判定（逻辑回归），写入 corpus/vocab/")
    fe.add_argument("--gold", action="append",
                    help="校准集目录（外部样本格式，可重复；默认 evals/calibration、evals/calibration2 与 evals/calibration3）")
    fe.add_argument("--out", default=str(ROOT / "corpus" / "vocab" / "evidence_model.json"))
    fe.add_argument("--out-offdomain", default=str(ROOT / "corpus" / "vocab" / "offdomain_model.json"))
    fe.add_argument("--report", action="append", help="另报告这些评测集上的 AUC 与阈值扫描（不参与拟合；勿用盲测集）")
    fe.add_argument("--c", type=float, default=1.0, help="L2 正则强度的倒数（scikit-learn 的 C）")
    fe.add_argument("--dry-run", action="store_true", help="只报告，不写模型")
    fe.add_argument("--json", action="store_true")
    fe.set_defaults(func=cmd_fit_evidence)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except AssistantError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
