"""Errors of the ingest stage: each names the file and says what is wrong, in Chinese."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import AssistantError


class IngestError(AssistantError):
    """A file that cannot be added (unreadable, encrypted, no clauses, too large…)."""

    def __init__(self, path: str | Path, problem: str, *, hint: str | None = None, code: str = "invalid_document") -> None:
        name = Path(str(path)).name
        super().__init__(f"文件「{name}」：{problem}", hint=hint)
        self.file = name
        self.problem = problem
        self.code = code


class DocumentExistsError(AssistantError):
    """The doc_id is taken and --replace was not given."""

    def __init__(self, doc_id: str, title: str, file: str = "") -> None:
        who = f"文件「{file}」：" if file else ""
        super().__init__(f"{who}文件编号 {doc_id} 已存在（《{title}》）。如要以新版本替换，请使用 --replace"
                         "（API：replace=true）；或用 --doc-id 指定另一个编号。")
        self.doc_id = doc_id
