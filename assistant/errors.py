"""Domain exceptions.

Every message is written for the person who will read it: Chinese first (end
users, officials), with English detail where it helps an integrator. The HTTP
layer maps these classes to status codes in one place (assistant/api).
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: `message` is shown to users; `hint` says how to fix it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class CorpusFileError(AssistantError):
    """A source file could not be read or parsed (names the file)."""

    def __init__(self, path: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path


class ManifestError(AssistantError):
    """corpus/manifest.toml is missing or malformed."""


class UnknownDocumentError(AssistantError):
    """A doc_id that is not in the manifest."""

    def __init__(self, doc_id: str, valid: list[str]) -> None:
        super().__init__(
            f"未知的文件编号（doc_id）：{doc_id!r}。可用的编号：{'、'.join(valid)}",
            hint=f"Unknown doc_id {doc_id!r}; valid: {', '.join(valid)}",
        )
        self.doc_id = doc_id
        self.valid = valid


class UnknownClauseError(AssistantError):
    """A clause label that does not exist in a document."""

    def __init__(self, doc_id: str, label: str, near: list[str]) -> None:
        near_txt = "、".join(near) if near else "（无相近条款）"
        super().__init__(
            f"文件 {doc_id} 中没有条款 {label!r}。相近的条款：{near_txt}",
            hint=f"No clause {label!r} in {doc_id}; near matches: {', '.join(near) or 'none'}",
        )
        self.doc_id = doc_id
        self.label = label
        self.near = near


class IndexMismatchError(AssistantError):
    """The persisted index was built with other settings or an older corpus."""


class IndexNotFoundError(AssistantError):
    """No index has been built yet."""


class InvalidQueryError(AssistantError):
    """A query that cannot be answered as given (empty, too long, bad filter)."""
