"""The vocabularies of corpus/vocab/ — data, not code — loaded into one `Vocab`:
roles and phases (roles.toml, phases.toml), the thesaurus of users' words
(thesaurus.toml), modal verbs (modals.toml) and the force of each kind of document
(force.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ManifestError


@dataclass(frozen=True)
class Role:
    id: str
    description: str
    synonyms: tuple[str, ...]
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class Phase:
    id: str
    scheme: str
    order: int
    synonyms: tuple[str, ...]
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class ThesaurusEntry:
    terms: tuple[str, ...]
    expand: tuple[str, ...]


@dataclass(frozen=True)
class Modal:
    words: tuple[str, ...]
    strength: str
    natures: tuple[str, ...] = ()  # empty: every document
    first_clause_only: bool = False
    after_condition: "re.Pattern[str] | None" = None  # a clause that lifts first_clause_only


@dataclass(frozen=True)
class ModalRules:
    modals: tuple[Modal, ...] = ()
    not_modal: tuple[str, ...] = ()
    contextual: tuple[tuple[str, "re.Pattern[str]"], ...] = ()  # (word, when it is the modal)


@dataclass(frozen=True)
class Force:
    nature: str
    name: str
    force: str
    modal_meaning: str = ""


@dataclass(frozen=True)
class Slot:
    """An asked slot (slots.toml): what kind of fact a question wants and what states it."""
    id: str
    ask: tuple["re.Pattern[str]", ...]
    filler: tuple["re.Pattern[str]", ...]
    missing: str

    def asked(self, question: str) -> bool:
        return any(p.search(question) for p in self.ask)

    def filled_by(self, text: str) -> "re.Match[str] | None":
        for p in self.filler:
            m = p.search(text)
            if m:
                return m
        return None


@dataclass
class Vocab:
    roles: list[Role]
    phases: list[Phase]
    role_ignore: tuple[str, ...] = ()
    # (doc_id, label) -> role ids owning that section
    owners: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # (doc_id, label) -> phase ids of that section
    phase_sections: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # (doc_id, label) of sections that apply to every phase of a scheme -> scheme
    all_stages: dict[tuple[str, str], str] = field(default_factory=dict)
    thesaurus: tuple[ThesaurusEntry, ...] = ()
    modals: ModalRules = field(default_factory=ModalRules)
    force: dict[str, Force] = field(default_factory=dict)
    slots: tuple[Slot, ...] = ()
    question_forms: "re.Pattern[str] | None" = None  # slots.toml [forms]: grammar, not topic

    def asked_slot(self, question: str) -> Slot | None:
        """The first slot of slots.toml the (normalized) question asks for."""
        q = question.lower()
        return next((s for s in self.slots if s.asked(q)), None)

    @property
    def role_ids(self) -> list[str]:
        return [r.id for r in self.roles]

    @property
    def phase_ids(self) -> list[str]:
        return [p.id for p in self.phases]

    def phases_of_scheme(self, scheme: str) -> list[str]:
        return [p.id for p in sorted(self.phases, key=lambda p: p.order) if p.scheme == scheme]

    def matcher(self, kind: str, field_name: str) -> "TermMatcher":
        """Longest-first matcher over role/phase `synonyms` or `mentions`."""
        items = self.roles if kind == "role" else self.phases
        table: dict[str, str | None] = {}
        for it in items:
            for term in getattr(it, field_name):
                table.setdefault(term, it.id)
        if kind == "role":
            for term in self.role_ignore:
                table[term] = None
        return TermMatcher(table)


class TermMatcher:
    """Finds vocabulary terms in text, longest match first, without overlaps."""

    def __init__(self, table: dict[str, str | None]) -> None:
        self.table = table
        terms = sorted(table, key=len, reverse=True)
        self._re = re.compile("|".join(re.escape(t) for t in terms)) if terms else None

    def find(self, text: str) -> list[tuple[str, str]]:
        """(term, id) pairs in order of appearance; ignored terms are dropped."""
        if not self._re:
            return []
        out = []
        for m in self._re.finditer(text):
            target = self.table[m.group(0)]
            if target is not None:
                out.append((m.group(0), target))
        return out

    def ids(self, text: str) -> list[str]:
        seen: list[str] = []
        for _, i in self.find(text):
            if i not in seen:
                seen.append(i)
        return seen


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ManifestError(f"找不到词表文件 {path}。") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"词表文件 {path} 格式错误：{exc}") from exc


def load_thesaurus(path: Path) -> tuple[ThesaurusEntry, ...]:
    if not Path(path).is_file():
        return ()
    data = _read(Path(path))
    return tuple(ThesaurusEntry(tuple(e.get("terms", [])), tuple(e.get("expand", [])))
                 for e in data.get("entry", []))


def load_modals(path: Path) -> ModalRules:
    if not Path(path).is_file():
        return ModalRules()
    data = _read(Path(path))
    try:
        modals = tuple(Modal(tuple(m["words"]), m["strength"], tuple(m.get("natures", [])),
                             bool(m.get("first_clause_only", False)),
                             re.compile(m["after_condition"]) if m.get("after_condition") else None)
                       for m in data.get("modal", []))
        contextual = tuple((c["word"], re.compile(c["modal_if"])) for c in data.get("contextual", []))
    except (KeyError, re.error) as exc:
        raise ManifestError(f"词表文件 {path} 格式错误：{exc!r}") from exc
    return ModalRules(modals, tuple(data.get("not_modal", {}).get("words", [])), contextual)


def load_force(path: Path) -> dict[str, Force]:
    if not Path(path).is_file():
        return {}
    return {k: Force(k, v.get("name", k), v.get("force", ""), v.get("modal_meaning", ""))
            for k, v in _read(Path(path)).items()}


def load_slots(path: Path) -> tuple[Slot, ...]:
    if not Path(path).is_file():
        return ()
    data = _read(Path(path))
    try:
        return tuple(Slot(s["id"], tuple(re.compile(x, re.I) for x in s.get("ask", [])),
                          tuple(re.compile(x) for x in s.get("filler", [])), s.get("missing", ""))
                     for s in data.get("slot", []))
    except (KeyError, re.error) as exc:
        raise ManifestError(f"词表文件 {path} 格式错误：{exc!r}") from exc


def load_forms(path: Path) -> "re.Pattern[str] | None":
    if not Path(path).is_file():
        return None
    forms = _read(Path(path)).get("forms", {}).get("patterns", [])
    return re.compile("|".join(sorted(forms, key=len, reverse=True))) if forms else None


def load_vocab(vocab_dir: Path) -> Vocab:
    rdata = _read(vocab_dir / "roles.toml")
    pdata = _read(vocab_dir / "phases.toml")
    roles = [
        Role(r["id"], r.get("description", ""), tuple(r.get("synonyms", [])),
             tuple(r.get("mentions", r.get("synonyms", []))))
        for r in rdata.get("role", [])
    ]
    phases = [
        Phase(p["id"], p["scheme"], int(p.get("order", 0)), tuple(p.get("synonyms", [])),
              tuple(p.get("mentions", [])))
        for p in pdata.get("phase", [])
    ]
    v = Vocab(roles=roles, phases=phases, role_ignore=tuple(rdata.get("ignore", [])),
              thesaurus=load_thesaurus(vocab_dir / "thesaurus.toml"),
              modals=load_modals(vocab_dir / "modals.toml"), force=load_force(vocab_dir / "force.toml"),
              slots=load_slots(vocab_dir / "slots.toml"), question_forms=load_forms(vocab_dir / "slots.toml"))
    role_ids = set(v.role_ids)
    for o in rdata.get("owner", []):
        if o["role"] not in role_ids:
            raise ManifestError(f"roles.toml: owner 指向未知角色 {o['role']!r}。")
        for label in o["labels"]:
            v.owners.setdefault((o["doc"], label), []).append(o["role"])
    for p in pdata.get("phase", []):
        for sec in p.get("sections", []):
            for label in sec["labels"]:
                v.phase_sections.setdefault((sec["doc"], label), []).append(p["id"])
    for a in pdata.get("all_stages", []):
        for label in a["labels"]:
            v.all_stages[(a["doc"], label)] = a["scheme"]
    return v
