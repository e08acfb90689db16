"""Tagging stage: strength, roles, phases and cited standards for every unit.

Runs after parsing, over one document's units (parents before children).
"""

from __future__ import annotations

import re

from assistant.corpus.model import Clause
from assistant.corpus.vocab import ModalRules, Vocab

# A modal counts only in the first clause of a sentence, or after a short lead such as
# "必要时，可引进…", when its rule says first_clause_only.
_SEGMENT_RE = re.compile(r"[，,；;。：:]")


def detect_strength(text: str, rules: ModalRules, nature: str = "") -> str | None:
    """The modal verb of a requirement: shall / should / may / shall-not, or None.
    rules: vocab/modals.toml; nature: the document's manifest nature (some modals, such as
    the notices' 要, count only in some kinds of document)."""
    found = detect_modal(text, rules, nature)
    return found[1] if found else None


def detect_modal(text: str, rules: ModalRules, nature: str = "") -> tuple[str, str] | None:
    """(the modal word as written, its strength), or None."""
    if not text:
        return None
    modals = [m for m in rules.modals if not m.natures or nature in m.natures]
    words = sorted({w for m in modals for w in m.words}, key=len, reverse=True)
    if not words:
        return None
    of = {w: m for m in modals for w in m.words}
    masked = text
    # a contextual word is the modal where its pattern says so, else masked like the rest
    for word, modal_if in rules.contextual:
        pos = 0
        while (i := masked.find(word, pos)) >= 0:
            if not modal_if.match(masked, i):
                masked = masked[:i] + "＿" * len(word) + masked[i + len(word):]
            pos = i + len(word)
    for w in sorted(rules.not_modal, key=len, reverse=True):
        masked = masked.replace(w, "＿" * len(w))
    for m in re.finditer("|".join(re.escape(w) for w in words), masked):
        modal = of[m.group(0)]
        if modal.first_clause_only:
            sentence = re.split(r"[。！？]", masked[: m.start()])[-1]
            segments = [x.strip() for x in _SEGMENT_RE.split(sentence)]
            first = len(segments) == 1 or (len(segments) == 2 and len(segments[0]) <= 6)
            conditioned = (len(segments) >= 2 and modal.after_condition is not None
                           and modal.after_condition.search(segments[-2]) is not None and not segments[-1])
            if not (first or conditioned):
                continue
        return m.group(0), modal.strength
    return None


_STD_CODE_RE = re.compile(
    r"(?:GB/T|GB|NY/T|QB/T|DB\d{2}/T|T/[A-Z]+(?: [A-Z]+)?)\s?\d+(?:\.\d+)?(?:[—-]\d{4})?"
)


def _lead_in(parent: Clause, vocab: Vocab, nature: str) -> tuple[str, str]:
    """The (modal, strength) an item without its own modal takes: that of the sentence of
    its lead-in that introduces the list ("…关键绩效指标宜包括但不限于下列要求："), else the
    lead-in's."""
    sentences = [x for x in re.split(r"(?<=[。！？])", parent.text or "") if x.strip()]
    if sentences:
        own = detect_modal(sentences[-1], vocab.modals, nature)
        if own:
            return own
    return parent.modal, parent.strength


def cited_standards(text: str) -> list[str]:
    seen: list[str] = []
    for m in _STD_CODE_RE.finditer(text):
        code = re.sub(r"[—-]\d{4}$", "", m.group(0)).replace("  ", " ")
        if code not in seen:
            seen.append(code)
    return seen


def tag_units(doc_id: str, units: list[Clause], vocab: Vocab, nature: str = "") -> None:
    """Fill strength, roles, owner_roles, phases and references in place."""
    by_label = {u.label: u for u in units}
    role_m = vocab.matcher("role", "mentions")
    phase_m = vocab.matcher("phase", "mentions")
    for u in units:  # parents come before children (document order)
        parent = by_label.get(u.parent) if u.parent else None
        # strength: the unit's own modal verb, else the lead-in clause's
        own = None if u.kind in ("note", "table-row", "form", "table", "reference", "figure", "cover") \
            else detect_modal(u.text, vocab.modals, nature)
        if own:
            u.modal, u.strength = own
        elif parent is not None and u.kind == "item" and _lead_in(parent, vocab, nature)[1] != "none":
            u.modal, u.strength = _lead_in(parent, vocab, nature)
            u.strength_inherited = True
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
