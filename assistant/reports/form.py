"""The applicant's form (TOML or JSON) and its validation against the corpus's own form.

Allowed values of the status items are read from 附件1 第一部分 (the □ options), so the
form cannot drift from the document. Every error names the field, in Chinese.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.store import Corpus
from assistant.errors import AssistantError

EVAL_DOC = "miit-pilot-evaluation"
STATUS_SECTION = "附件1 第一部分"
# 申请表 fields the applicant fills besides 单位/主导产业 (自我评价 is its own box)
APPLICATION_FIELDS = ["单位负责人", "单位负责人职务", "单位负责人座机", "申报联系人", "申报联系人职务", "申报联系人座机",
                      "手机", "传真", "邮箱"]


class FormError(AssistantError):
    """A form that cannot be used; `field` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"表单字段「{field_name}」：{message}")
        self.field = field_name


@dataclass
class StatusItem:
    name: str
    label: str
    options: list[str]  # empty: a number field (人次, 企业数)
    has_amount: bool = False  # 品牌奖励激励资金: 有，支持力度____万元


@dataclass
class ReportForm:
    unit: str
    industry: str = ""
    status: dict[str, str | int | float] = field(default_factory=dict)
    amounts: dict[str, float] = field(default_factory=dict)
    indicators: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # keyed by outline label suffix: "一、", "五、（三）"
    experience: dict[str, str] = field(default_factory=dict)  # 名称, 概述, 背景, 典型经验, 实践及效果, 推广价值
    application: dict[str, str] = field(default_factory=dict)


def status_items(corpus: Corpus) -> dict[str, StatusItem]:
    """The checkbox items of 附件1 第一部分 with their allowed values."""
    doc = corpus.doc(EVAL_DOC)
    items: dict[str, StatusItem] = {}
    for u in doc.descendants(doc.by_label[STATUS_SECTION]):
        if u.kind != "form" or not u.title:
            continue
        opts = [re.split(r"[，,]", o)[0].strip() for o in re.findall(r"□\s*([^□\n]+)", u.text)]
        if not opts and doc.children(u):
            continue  # a group heading (区域品牌建设情况)
        items[u.title] = StatusItem(u.title, u.label, [o for o in opts if o], has_amount="万元" in u.text)
    return items


def indicator_names(corpus: Corpus) -> list[str]:
    doc = corpus.doc(EVAL_DOC)
    return [u.text for u in doc.units if u.kind == "table-row" and u.parent and u.parent.startswith(STATUS_SECTION)]


def _num(field_name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            x = float(str(v).replace(",", ""))
        except ValueError:
            raise FormError(field_name, f"应为数字，收到 {v!r}。") from None
    else:
        try:
            x = float(v)
        except OverflowError:  # an int too large for a float
            x = math.inf
    if not math.isfinite(x):  # JSON's NaN/Infinity, 1e400, the strings "inf"/"nan"
        raise FormError(field_name, f"应为有限的数字，收到 {str(v)[:40]!r}（不接受 inf、nan 或超出范围的数）。")
    return x


def load_form(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError(str(path), "文件不存在。") from None
    except UnicodeDecodeError:
        raise FormError(str(path), "不是 UTF-8 编码。") from None
    try:
        return json.loads(text) if str(path).endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FormError(str(path), f"格式错误：{exc}") from None


def parse_form(data: dict, corpus: Corpus) -> ReportForm:
    """Validate raw form data (from TOML/JSON/the API) into a ReportForm."""
    if not isinstance(data, dict):
        raise FormError("（整个表单）", "应为键值表。")
    unit = data.get("单位")
    if not isinstance(unit, str) or not unit.strip():
        raise FormError("单位", "必填，填写试点单位名称。")
    industry = data.get("主导产业", "")
    if not isinstance(industry, str):
        raise FormError("主导产业", "应为文字。")
    items = status_items(corpus)
    status: dict[str, str | int | float] = {}
    amounts: dict[str, float] = {}
    raw_status = data.get("状态", {})
    if not isinstance(raw_status, dict):
        raise FormError("状态", "应为键值表，如 区域品牌集体商标 = \"正在申请\"。")
    for name, value in raw_status.items():
        if name.endswith("支持力度（万元）"):
            amounts[name.removesuffix("支持力度（万元）")] = _num(f"状态.{name}", value)
            continue
        item = items.get(name)
        if item is None:
            raise FormError(f"状态.{name}", "不是总结报告第一部分的栏目。可填栏目：" + "、".join(items))
        if item.options:
            if value not in item.options:
                raise FormError(f"状态.{name}", f"取值 {value!r} 不在允许范围内：" + "、".join(item.options))
            status[name] = value
        else:
            status[name] = _num(f"状态.{name}", value)
    indicators: dict[str, dict[str, float]] = {}
    names = indicator_names(corpus)
    raw_ind = data.get("指标", {})
    if not isinstance(raw_ind, dict):
        raise FormError("指标", "应为键值表。")
    for name, cols in raw_ind.items():
        if name not in names:
            raise FormError(f"指标.{name}", "不是主导产业主要指标表的指标。可填指标：" + "、".join(names))
        if not isinstance(cols, dict) or set(cols) - {"申报时", "上一年"}:
            raise FormError(f"指标.{name}", "应为 {申报时 = 数字, 上一年 = 数字}。")
        indicators[name] = {k: _num(f"指标.{name}.{k}", v) for k, v in cols.items()}
    out = {}
    for key in ("说明", "典型经验", "申请表"):
        raw = data.get(key, {})
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise FormError(key, "应为键值表，值为文字。")
        out[key] = {k: v.strip() for k, v in raw.items()}
    unknown = set(data) - {"单位", "主导产业", "状态", "指标", "说明", "典型经验", "申请表"}
    if unknown:
        raise FormError(sorted(unknown)[0], "不是表单支持的字段（支持：单位、主导产业、状态、指标、说明、典型经验、申请表）。")
    return ReportForm(unit=unit.strip(), industry=industry.strip(), status=status, amounts=amounts,
                      indicators=indicators, notes=out["说明"], experience=out["典型经验"], application=out["申请表"])


def form_fields(corpus: Corpus) -> dict:
    """What a form can hold, for UIs: status items with allowed values, indicators, the outline
    keys of 说明 with their headings ("五、（三）" → "五、（三）技术水平"), the six parts of
    典型经验 and the fields of the 申请表 with the self-assessment's character limit."""
    doc = corpus.doc(EVAL_DOC)
    units = doc.descendants(doc.by_label["附件1 第二部分"])
    outline = [u.label.removeprefix("附件1 ") for u in units]
    parts = [re.split(r"[（(]", u.text, maxsplit=1)[0].strip("。 ") for u in doc.children(doc.by_label["附件3 二、"])]
    m = re.search(r"自我评价（限\s*(\d+)\s*字）", doc.by_label["附件3 申请表"].text)
    return {
        "status": [{"name": i.name, "options": i.options, "has_amount": i.has_amount} for i in status_items(corpus).values()],
        "indicators": indicator_names(corpus),
        "notes": outline,
        "note_headings": [{"key": k, "heading": f"{k}{u.title or ''}"} for k, u in zip(outline, units, strict=True)],
        "experience": parts,
        "application": APPLICATION_FIELDS,
        "self_assessment_limit": int(m.group(1)) if m else None,
    }
