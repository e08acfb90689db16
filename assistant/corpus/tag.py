"""Tagging stage: strength, roles, phases and cited standards for every unit.

Runs after parsing, over one document's units (parents before children).
"""

from __future__ import annotations

import re

from assistant.corpus.model import Clause
from assistant.corpus.vocab import Vocab

# Words that contain a modal character without being the modal verb.
_NOT_MODAL = [
    "相应", "适应", "应用", "响应", "供应", "应对", "对应", "效应", "应急", "反应", "呼应",
    "顺应", "感应", "应收", "应届", "答应",
    "适宜", "便宜", "事宜", "宜居",
    "可持续", "可靠", "认可", "可控", "可行", "可视", "许可", "可能", "可观", "可移植",
    "可测量", "可执行", "可追溯", "可比", "可信", "可用", "可推广", "不可", "可评价", "尽可能",
]
_MODAL_RE = re.compile(r"不应|不得|不宜|应当|应|宜|可")
_MODAL_OF = {"不应": "shall-not", "不得": "shall-not", "不宜": "shall-not", "应当": "shall",
             "应": "shall", "宜": "should", "可": "may"}
# `可` counts only in the first clause of a sentence, or after a short lead such as
# "必要时，可引进…"; later it is usually descriptive ("…形成一定规模,可满足…").
_SEGMENT_RE = re.compile(r"[，,；;。：:]")

_STD_CODE_RE = re.compile(
    r"(?:GB/T|GB|NY/T|QB/T|DB\d{2}/T|T/[A-Z]+(?: [A-Z]+)?)\s?\d+(?:\.\d+)?(?:[—-]\d{4})?"
)


def detect_strength(text: str) -> str | None:
    """The modal verb of a requirement: shall / should / may / shall-not, or None."""
    if not text:
        return None
    masked = text
    for w in _NOT_MODAL:
        masked = masked.replace(w, "＿" * len(w))
    for m in _MODAL_RE.finditer(masked):
        before = masked[: m.start()]
        segments = _SEGMENT_RE.split(before)
        if m.group(0) == "可" and len(segments) > 1 and not (len(segments) == 2 and len(segments[0]) <= 6):
            continue
        return _MODAL_OF[m.group(0)]
    return None


def cited_standards(text: str) -> list[str]:
    seen: list[str] = []
    for m in _STD_CODE_RE.finditer(text):
        code = re.sub(r"[—-]\d{4}$", "", m.group(0)).replace("  ", " ")
        if code not in seen:
            seen.append(code)
    return seen


def tag_units(doc_id: str, units: list[Clause], vocab: Vocab) -> None:
    """Fill strength, roles, owner_roles, phases and references in place."""
    by_label = {u.label: u for u in units}
    role_m = vocab.matcher("role", "mentions")
    phase_m = vocab.matcher("phase", "mentions")
    for u in units:  # parents come before children (document order)
        parent = by_label.get(u.parent) if u.parent else None
        # strength: the unit's own modal verb, else the lead-in clause's
        own = None if u.kind in ("note", "table-row", "form", "table", "reference", "figure") \
            else detect_strength(u.text)
        if own:
            u.strength = own
        elif parent is not None and u.kind == "item" and parent.strength != "none":
            u.strength, u.strength_inherited = parent.strength, True
        else:
            u.strength = "none"
        # roles: owners of this section (inherited) + roles the unit names
        owners = list(parent.owner_roles) if parent else []
        for r in vocab.owners.get((doc_id, u.label), []):
            if r not in owners:
                owners.append(r)
        u.owner_roles = owners
        named = role_m.ids(" ".join(x for x in (u.title, u.text) if x))
        u.roles = owners + [r for r in named if r not in owners]
        # phases: section membership (inherited), all-stage sections, explicit mentions
        phases = list(parent.phases) if parent else []
        for p in vocab.phase_sections.get((doc_id, u.label), []):
            if p not in phases:
                phases.append(p)
        scheme = vocab.all_stages.get((doc_id, u.label))
        if scheme:
            phases += [p for p in vocab.phases_of_scheme(scheme) if p not in phases]
        phases += [p for p in phase_m.ids(u.text) if p not in phases]
        u.phases = phases
        u.references = cited_standards(" ".join(x for x in (u.title, u.text) if x))
