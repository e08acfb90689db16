"""Adding documents: new files are picked up; bad files are named and the others still load."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import CORPUS

from assistant.corpus.store import load_corpus
from assistant.errors import ManifestError

GOOD = "1 范围\n\n本文件规定了要求。\n\n2 要求\n\n2.1 应建立体系。\n"


def _manifest(entries: list[tuple[str, str]]) -> str:
    out = []
    for doc_id, file in entries:
        out.append(f'[[document]]\ndoc_id = "{doc_id}"\nfile = "{file}"\ntitle = "测试{doc_id}"\nkind = "团体标准"\n')
    return "\n".join(out)


@pytest.fixture
def tmp_corpus(tmp_path):
    shutil.copytree(CORPUS / "vocab", tmp_path / "vocab")
    return tmp_path


def test_new_document_with_manifest_entry_is_picked_up(tmp_corpus):
    (tmp_corpus / "new.txt").write_text(GOOD, encoding="utf-8")
    (tmp_corpus / "manifest.toml").write_text(_manifest([("new-doc", "new.txt")]), encoding="utf-8")
    c = load_corpus(tmp_corpus)
    assert c.errors == []
    assert c.clause("new-doc", "2.1").strength == "shall"


def test_bad_files_are_reported_by_name_and_others_still_load(tmp_corpus):
    (tmp_corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_corpus / "gbk.txt").write_bytes("1 范围\n\n本文件。\n".encode("gbk"))
    (tmp_corpus / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_corpus / "stray.md").write_text(GOOD, encoding="utf-8")
    (tmp_corpus / "README.md").write_text("# 说明\n", encoding="utf-8")
    (tmp_corpus / "manifest.toml").write_text(
        _manifest([("good", "good.txt"), ("gbk", "gbk.txt"), ("empty", "empty.txt"), ("gone", "gone.txt")]),
        encoding="utf-8",
    )
    c = load_corpus(tmp_corpus)
    assert list(c.documents) == ["good"]
    msgs = {e.path.rsplit("/", 1)[-1]: e.message for e in c.errors}
    assert "UTF-8" in msgs["gbk.txt"]
    assert "为空" in msgs["empty.txt"]
    assert "不存在" in msgs["gone.txt"]
    assert "未在 manifest.toml 中登记" in msgs["stray.md"]
    assert "README.md" not in msgs


def test_malformed_manifest_is_a_clear_error(tmp_corpus):
    (tmp_corpus / "manifest.toml").write_text('[[document]]\ndoc_id = "Bad ID"\nfile="x.txt"\ntitle="x"\n')
    with pytest.raises(ManifestError, match="doc_id"):
        load_corpus(tmp_corpus)
