"""`brand-assistant` command line.

Every read command takes --json. Usage errors and unknown documents/clauses exit 2
with a clear Chinese message on stderr; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Callable

from assistant.errors import AssistantError
from assistant.settings import get_settings

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
        print(f"  单元 {r['units']} 个；类型 " + "、".join(f"{k} {v}" for k, v in sorted(r["by_kind"].items())))
        print("  强度 " + "、".join(f"{k} {v}" for k, v in sorted(r["by_strength"].items())))
        if r["skipped_lines"]:
            print("  未入单元的行（封面/目次/分页等） " + "、".join(f"{k} {v}" for k, v in r["skipped_lines"].items()))
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
    from assistant.corpus.model import STRENGTH_ZH

    print(f"〔{doc.spec.cite_name} {unit.label}〕 {unit.title or ''}".rstrip())
    if unit.heading_path:
        print(f"位置：{unit.heading_path}")
    print(f"类型：{unit.kind}  强度：{STRENGTH_ZH[unit.strength]}"
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


# --- parser -------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: Chinese message, exit 2
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


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
