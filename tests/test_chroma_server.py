"""Scale-out mode: a real Chroma server shared by API instances, with the token on
(`brand-assistant chroma-serve`: chroma run on loopback behind the token proxy). (integration)"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import CORPUS, ChromaServer, listen_addresses

from assistant.api.app import create_app
from assistant.index.embeddings import USEEmbedding
from assistant.index.store import build_index, load_index
from assistant.service import make_chat
from assistant.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-data")).start()
    yield server
    server.stop()


def test_the_server_checks_the_token_and_chroma_listens_on_loopback_only(chroma_server):
    base = f"http://127.0.0.1:{chroma_server.port}/api/v2"
    assert httpx.get(base + "/heartbeat").status_code == 200  # open, for health checks
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Chroma-Token": "wrong"}):
        assert httpx.get(base + "/tenants/default_tenant/databases", headers=headers).status_code == 401
    ok = httpx.get(base + "/tenants/default_tenant/databases", headers={"Authorization": f"Bearer {chroma_server.token}"})
    assert ok.status_code == 200
    assert listen_addresses(chroma_server.inner_port) == {"127.0.0.1"}


def test_two_api_instances_share_one_chroma_server(chroma_server, corpus, tmp_path):
    embed = USEEmbedding()
    first = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "a", data_dir=tmp_path / "a-data",
                     chroma_host="127.0.0.1", chroma_port=chroma_server.port, chroma_token=chroma_server.token,
                     open_mode=True)
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
            assert ready["ready"] and ready["dependencies"]["chroma"]["ok"]
            hits = c.post("/v1/search", json={"query": "品牌出海怎么做", "top_k": 3}).json()["hits"]
            assert ("gxas-1220-2026", "7.3.2") in {(h["doc_id"], h["clause"]) for h in hits}
            ans = c.post("/v1/ask", json={"question": "怎么打假"}).json()
            assert ans["supported"] and any(x["clause"].startswith("6.4.4") for x in ans["citations"])
    # a client without the token, or with another, is refused with a Chinese reason
    from assistant.errors import DependencyUnavailableError
    from assistant.index.chroma import ChromaConfigError

    with pytest.raises(ChromaConfigError, match="CHROMA_TOKEN"):
        load_index(corpus, first.model_copy(update={"chroma_token": None}), embed, rebuild="never")
    wrong = load_index(corpus, first.model_copy(update={"chroma_token": "wrong"}), embed, rebuild="never")
    with pytest.raises(DependencyUnavailableError, match="拒绝了令牌"):
        wrong.vector_store.client.count()
