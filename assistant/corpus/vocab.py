"""Role and phase vocabularies (corpus/vocab/*.toml): data, not code."""

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
    v = Vocab(roles=roles, phases=phases, role_ignore=tuple(rdata.get("ignore", [])))
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
