"""Scale-out mode: a real `chroma run` server on loopback, shared by API instances. (integration)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CORPUS, free_port, wait_for_http

from assistant.api.app import create_app
from assistant.index.embeddings import USEEmbedding
from assistant.index.store import build_index, load_index
from assistant.service import make_chat
from assistant.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-data")
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    if not wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 30):
        proc.kill()
        pytest.fail("chroma server did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_two_api_instances_share_one_chroma_server(chroma_server, corpus, tmp_path):
    embed = USEEmbedding()
    first = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "a", data_dir=tmp_path / "a-data",
                     chroma_host="127.0.0.1", chroma_port=chroma_server, open_mode=True)
    meta = build_index(corpus, first, embed)
    assert meta["embedded_now"] == meta["nodes"]
    # a second instance: own local BM25/nodes, the same vectors on the server (nothing re-embedded)
    second = first.model_copy(update={"index_dir": tmp_path / "b", "data_dir": tmp_path / "b-data"})
    meta2 = build_index(corpus, second, embed)
    assert meta2["embedded_now"] == 0 and meta2["dimension"] == 512
    for settings in (first, second):
        index = load_index(corpus, settings, embed, rebuild="never")
        assert index.vector_store.client.count() == meta["nodes"]
        assert index.vectors is None  # with a Chroma server every query goes to the server
        with TestClient(create_app(settings, chat=make_chat(settings, index))) as c:
            ready = c.get("/readyz").json()
            assert ready["vector_store"] == "chroma-server" and ready["dense_search"] == "chroma"
            hits = c.post("/v1/search", json={"query": "品牌出海怎么做", "top_k": 3}).json()["hits"]
            assert ("gxas-1220-2026", "7.3.2") in {(h["doc_id"], h["clause"]) for h in hits}
            ans = c.post("/v1/ask", json={"question": "怎么打假"}).json()
            assert ans["supported"] and any(x["clause"].startswith("6.4.4") for x in ans["citations"])
