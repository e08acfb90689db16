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
    """A source file could not be read or parsed (names the file; doc_id when the
    manifest lists it)."""

    def __init__(self, path: str, message: str, *, hint: str | None = None, doc_id: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = path
        self.reason = message
        self.doc_id = doc_id


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


class UnknownSessionError(AssistantError):
    """A session id that does not exist, or that belongs to another caller (the same
    answer for both, so that ids cannot be probed)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"会话 {session_id} 不存在（或不属于当前密钥）。请不带 session_id 提问以开始新会话。",
                         hint="Unknown session id (or owned by another API key); omit session_id to start one.")
        self.session_id = session_id


class UnknownTurnError(AssistantError):
    """A turn number that the session does not have."""


class ForbiddenError(AssistantError):
    """A valid key without the scope a route needs (a widget key asking for feedback or
    the admin routes), or a widget key used from a site not on its allow-list (HTTP 403)."""

    code = "forbidden"

    def __init__(self, message: str, *, code: str = "forbidden", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class CuratedPairError(AssistantError):
    """A curated question → units pair that cannot be stored: an empty question, no
    units, or a unit that is not in the corpus (names it, with near matches)."""

    def __init__(self, message: str, *, near: list[str] | None = None) -> None:
        super().__init__(message)
        self.near = near or []


class DependencyUnavailableError(AssistantError):
    """Something the service needs is down (the Chroma server, the session store):
    the request may succeed later (HTTP 503 with Retry-After)."""

    code = "dependency_unavailable"

    def __init__(self, message: str, *, dependency: str, retry_after: int = 5, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.dependency = dependency
        self.retry_after = retry_after


class StorageUnavailableError(DependencyUnavailableError):
    """The SQLite store of sessions and feedback cannot be read or written
    (read-only or full disk, unreadable file)."""

    code = "storage_unavailable"

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message, dependency="sessions", retry_after=retry_after)


class CorpusIncompleteError(AssistantError):
    """A source file listed in the manifest failed to load: nothing is answered (or
    rebuilt, or deleted from the index) from a partial corpus."""

    def __init__(self, problems: list[dict]) -> None:
        names = "；".join(f"{p['file']}（{p['reason']}）" for p in problems)
        super().__init__(
            f"语料文件未能全部加载：{names}。为避免给出缺少文件的答复，检索与问答暂停；索引未作任何改动。"
            "请修正文件后重新启动服务（brand-assistant corpus stats 可查看问题）。",
            hint="Fix the listed corpus files, then restart; the index was left untouched.")
        self.problems = problems
