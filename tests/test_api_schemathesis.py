"""Property-based fuzzing of the API from its own OpenAPI schema: zero server errors.

Runs against the app in-process (ASGI) on the tiny corpus with a fake embedder; the
generated requests include empty, huge, unicode and wrongly typed values.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from assistant.api.app import create_app
from assistant.chat.service import ChatService
from assistant.index.store import load_index
from assistant.retrieval.retriever import HybridClauseRetriever


def _app():
    """Built at import: schemathesis needs the schema when tests are collected
    (its pytest fixture loader does not work with this pytest version)."""
    import shutil
    import tempfile
    from pathlib import Path

    from llama_index.core.embeddings import MockEmbedding

    from tests.conftest import CORPUS, DOC, MANIFEST

    from assistant.corpus.store import load_corpus
    from assistant.index.store import build_index
    from assistant.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="ba-fuzz-"))
    root = tmp / "corpus"
    root.mkdir()
    shutil.copytree(CORPUS / "vocab", root / "vocab")
    (root / "tiny.txt").write_text(DOC, encoding="utf-8")
    (root / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    s = Settings(corpus_dir=root, index_dir=tmp / "index", data_dir=tmp / "data", open_mode=True,
                 rate_limit_per_minute=0)
    corpus = load_corpus(root)
    embed = MockEmbedding(embed_dim=8)
    build_index(corpus, s, embed)
    index = load_index(corpus, s, embed, rebuild="never")
    app = create_app(s, chat=ChatService(index, HybridClauseRetriever(index), s))
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
