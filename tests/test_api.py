"""HTTP API behaviour on the tiny corpus (fake embedder): contract, errors, safety."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.chat.service import ChatService
from assistant.index.store import load_index
from assistant.retrieval.retriever import HybridClauseRetriever


def _client(tiny, **overrides) -> TestClient:
    corpus, settings, embed = tiny
    settings = settings.model_copy(update={"open_mode": True, **overrides})
    index = load_index(corpus, settings, embed, rebuild="never")
    chat = ChatService(index, HybridClauseRetriever(index, mode="bm25"), settings)
    return TestClient(create_app(settings, chat=chat))


@pytest.fixture
def client(tiny):
    with _client(tiny) as c:
        yield c


def test_search_and_ask_contract(client):
    r = client.post("/v1/search", json={"query": "国际化战略", "top_k": 3, "filters": {"doc_ids": ["tiny"]}})
    assert r.status_code == 200 and r.headers["x-request-id"]
    hit = r.json()["hits"][0]
    for field in ("doc_id", "doc_code", "doc_title", "clause", "heading_path", "text", "strength", "roles",
                  "phases", "score"):
        assert field in hit
    assert hit["clause"] == "3.1" and hit["doc_code"] == "T/TINY 1—2026"
    r = client.post("/v1/ask", json={"question": "举报违法侵权行为"})
    body = r.json()
    assert r.status_code == 200 and body["supported"] and body["session_id"] and body["turn"] == 1
    c = body["citations"][0]
    assert set(c) >= {"doc_id", "doc_code", "doc_title", "clause", "quote", "strength"}
    r2 = client.post("/v1/ask", json={"question": "第一条具体怎么做？", "session_id": body["session_id"]})
    assert r2.json()["turn"] == 2


def test_ask_stream_is_server_sent_events(client):
    with client.stream("POST", "/v1/ask/stream", json={"question": "国际化战略"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    assert events[0] == "meta" and events[1] == "direct" and events[-1] == "done"
    assert "point" in events and "answer" in events and "citations" in events
    datas = [json.loads(line.split(": ", 1)[1]) for line in text.splitlines() if line.startswith("data: ")]
    meta, done = datas[0], datas[-1]
    assert meta["coverage"] == done["coverage"] and "missing" in meta and meta["session_id"] == done["session_id"]
    assert done["citations"][0]["clause"] == "3.1" and done["points"][0]["citation"]["clause"] == "3.1"
    points = [d for e, d in zip(events, datas) if e == "point"]
    assert points[0]["text"].startswith("1. ") and "〔T/TINY 1—2026 3.1〕" in points[0]["text"]
    assert datas[events.index("answer")]["text"] == done["answer"]


def test_documents_clauses_roles_phases(client):
    assert client.get("/v1/documents").json()[0]["doc_id"] == "tiny"
    d = client.get("/v1/documents/tiny").json()
    assert [c["clause"] for c in d["chapters"]] == ["1", "2", "3"]
    c = client.get("/v1/documents/tiny/clauses", params={"label": "2.1.1a)"}).json()
    assert c["clause"] == "2.1.1 a)" and c["cite"] == "〔T/TINY 1—2026 2.1.1 a)〕"
    parent = client.get("/v1/documents/tiny/clauses", params={"label": "2.1.1"}).json()
    assert [x["clause"] for x in parent["children_units"]] == ["2.1.1 a)", "2.1.1 b)"]
    assert any(r["id"] == "行业社会组织" for r in client.get("/v1/roles").json())
    assert any(p["id"] == "初创构建期" for p in client.get("/v1/phases").json())


@pytest.mark.parametrize("path,payload,status,needle", [
    ("/v1/ask", {"question": "   "}, 422, "不能为空"),
    ("/v1/ask", {"question": "品" * 2001}, 422, "过长"),
    ("/v1/ask", {}, 422, "缺少字段"),
    ("/v1/ask", {"question": "品牌", "role": "不存在"}, 422, "可选值"),
    ("/v1/ask", {"question": "品牌", "doc_ids": ["nope"]}, 422, "tiny"),
    ("/v1/search", {"query": "品牌", "filters": {"phases": ["某阶段"]}}, 422, "初创构建期"),
    ("/v1/search", {"query": "品牌", "top_k": 0}, 422, "范围"),
])
def test_bad_input_is_a_clear_chinese_422(client, path, payload, status, needle):
    r = client.post(path, json=payload)
    assert r.status_code == status and needle in r.json()["detail"], r.json()
    assert r.json()["request_id"] == r.headers["x-request-id"]


def test_malformed_json_wrong_type_too_large_unknown_clause(client):
    r = client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = client.post("/v1/ask", content="问题", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/v1/ask", json={"question": "品" * 70000})
    assert r.status_code == 413
    r = client.get("/v1/documents/tiny/clauses", params={"label": "2.1.9"})
    assert r.status_code == 404 and "2.1.1" in r.json()["near"]
    r = client.get("/v1/documents/nope")
    assert r.status_code == 404 and r.json()["valid"] == ["tiny"]


def test_api_keys_and_open_mode(tiny):
    with _client(tiny, api_keys="k1,k2", open_mode=True) as c:  # keys set: open mode is off
        assert c.post("/v1/search", json={"query": "品牌"}).status_code == 401
        assert c.post("/v1/search", json={"query": "品牌"}, headers={"X-API-Key": "bad"}).status_code == 401
        assert c.post("/v1/search", json={"query": "品牌"}, headers={"X-API-Key": "k2"}).status_code == 200
        assert c.get("/healthz").status_code == 200
    with _client(tiny, open_mode=False) as c:
        r = c.get("/v1/documents")
        assert r.status_code == 401 and "BA_OPEN_MODE" in r.json()["detail"]


def test_rate_limit_429_with_retry_after(tiny):
    with _client(tiny, api_keys="k", rate_limit_per_minute=3) as c:
        codes = [c.get("/v1/roles", headers={"X-API-Key": "k"}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = c.get("/v1/roles", headers={"X-API-Key": "k"})
        assert int(r.headers["retry-after"]) >= 1 and "秒后重试" in r.json()["detail"]


def test_cors_allow_list(tiny):
    with _client(tiny, cors_origins="https://portal.example.gov.cn") as c:
        ok = c.options("/v1/search", headers={"Origin": "https://portal.example.gov.cn",
                                               "Access-Control-Request-Method": "POST"})
        assert ok.headers.get("access-control-allow-origin") == "https://portal.example.gov.cn"
        bad = c.options("/v1/search", headers={"Origin": "https://evil.example.com",
                                               "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in bad.headers


def test_request_id_and_privacy_in_logs(tiny, tmp_path):
    log_file = tmp_path / "access.jsonl"
    with _client(tiny, access_log_file=log_file) as c:
        r = c.post("/v1/ask", json={"question": "机密问题国际化战略"}, headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    lines = [json.loads(x) for x in log_file.read_text(encoding="utf-8").splitlines()]
    assert [x["request_id"] for x in lines] == ["req-42"]
    assert "机密问题" not in log_file.read_text(encoding="utf-8")
    with _client(tiny, log_questions=True, access_log_file=log_file) as c:
        c.post("/v1/ask", json={"question": "机密问题国际化战略"})
    assert json.loads(log_file.read_text(encoding="utf-8").splitlines()[-1])["question"] == "机密问题国际化战略"


def test_feedback_stored_under_concurrent_writes(client):
    sid = client.post("/v1/ask", json={"question": "国际化战略"}).json()["session_id"]
    assert client.post("/v1/feedback", json={"session_id": sid, "turn": 9, "rating": 1}).status_code == 404
    results = []

    def send(i):
        results.append(client.post("/v1/feedback", json={"session_id": sid, "turn": 1, "rating": 1 if i % 2 else -1,
                                                         "comment": f"意见{i}"}).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 20
    stored = client.app.state.chat.store.feedback()
    assert sorted(f["comment"] for f in stored) == sorted(f"意见{i}" for i in range(20))


def test_openapi_has_chinese_examples_and_every_route(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/v1/search", "/v1/ask", "/v1/ask/stream", "/v1/documents", "/v1/documents/{doc_id}",
            "/v1/documents/{doc_id}/clauses", "/v1/roles", "/v1/phases", "/v1/feedback", "/healthz",
            "/readyz"} <= paths
    assert "品牌出海" in json.dumps(spec, ensure_ascii=False)


def test_ui_remote_backend_speaks_the_api(client):
    from assistant.errors import InvalidQueryError
    from assistant.ui_backend import BackendError, RemoteBackend

    remote = RemoteBackend("http://testserver")
    remote.http = client  # the TestClient is an httpx client bound to the app
    ans = remote.ask("国际化战略")
    assert ans["supported"] and ans["citations"][0]["clause"] == "3.1" and ans["session_id"]
    assert remote.clause("tiny", "2.1.1")["cite"] == "〔T/TINY 1—2026 2.1.1〕"
    assert [d["doc_id"] for d in remote.documents()] == ["tiny"]
    remote.feedback(ans["session_id"], ans["turn"], 1, "好")
    with pytest.raises(InvalidQueryError, match="不能为空"):
        remote.ask("  ")
    with pytest.raises(BackendError, match="没有条款"):
        remote.clause("tiny", "9.9")


def test_concurrent_searches_share_embedding_batches_and_match_sequential_results(tiny):
    import asyncio

    import httpx

    corpus, settings, embed = tiny
    settings = settings.model_copy(update={"open_mode": True, "rate_limit_per_minute": 0})
    index = load_index(corpus, settings, embed, rebuild="never")
    chat = ChatService(index, HybridClauseRetriever(index, query_cache_size=0), settings)
    app = create_app(settings, chat=chat)
    queries = ["国际化战略", "举报违法侵权行为", "诚信合规管控体系", "行业自律公约"] * 5

    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            together = await asyncio.gather(*(c.post("/v1/search", json={"query": q}) for q in queries))
            one_by_one = [await c.post("/v1/search", json={"query": q}) for q in queries]
        return together, one_by_one

    together, one_by_one = asyncio.run(run())
    assert all(r.status_code == 200 for r in together + one_by_one)
    for a, b in zip(together, one_by_one):
        assert [(h["clause"], h["score"]) for h in a.json()["hits"]] == \
            [(h["clause"], h["score"]) for h in b.json()["hits"]]
    assert app.state.batcher.batches < 2 * len(queries)  # the concurrent half shared model calls
    with TestClient(app) as c:
        assert c.get("/readyz").json()["dense_search"] == "memory"  # the embedded default
