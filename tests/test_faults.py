"""Issue 13: fault injection. Each test reproduces a defect the review found, with real
processes where the fault is a process (a killed or frozen Chroma server, a read-only
data dir under `brand-assistant serve`), and checks the fixed behaviour."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from llama_index.core.embeddings import MockEmbedding

from tests.conftest import (
    CORPUS,
    DOC,
    MANIFEST,
    ChromaServer,
    free_port,
    make_tiny,
    read_only,
    serve_in_thread,
    start_serve,
    stop_process,
    tiny_app,
    wait_for_http,
)

from assistant.api.app import create_app
from assistant.chat.service import ChatService
from assistant.corpus.store import load_corpus
from assistant.errors import CorpusIncompleteError, IndexMismatchError
from assistant.index.store import build_index, load_index
from assistant.retrieval.retriever import HybridClauseRetriever
from assistant.settings import Settings

DOC2 = DOC.replace("区域品牌培育", "产业集群品牌培育").replace("国际化", "数字化")
MANIFEST2 = MANIFEST + ('\n[[document]]\ndoc_id = "tiny2"\nfile = "tiny2.txt"\ntitle = "第二标准"\n'
                        'code = "T/TINY 2—2026"\nkind = "团体标准"\n')


def two_docs(base: Path, **overrides):
    root = base / "corpus"
    root.mkdir()
    shutil.copytree(CORPUS / "vocab", root / "vocab")
    (root / "tiny.txt").write_text(DOC, encoding="utf-8")
    (root / "tiny2.txt").write_text(DOC2, encoding="utf-8")
    (root / "manifest.toml").write_text(MANIFEST2, encoding="utf-8")
    settings = Settings(corpus_dir=root, index_dir=base / "index", data_dir=base / "data", open_mode=True,
                        **overrides)
    return root, settings, MockEmbedding(embed_dim=8)


def break_file(root: Path, how: str) -> str:
    """Damage tiny2.txt the way the review did; returns the file name to expect."""
    path = root / "tiny2.txt"
    if how == "not-utf8":
        path.write_bytes(DOC2.encode("gb18030"))
    elif how == "empty":
        path.write_text("", encoding="utf-8")
    elif how == "renamed":  # the listed file is gone, an unlisted one appeared
        path.rename(root / "tiny2-新版.txt")
    return "tiny2.txt"


def chroma_count(settings) -> int:
    from assistant.index.store import COLLECTION, chroma_client

    return chroma_client(settings).get_collection(COLLECTION, embedding_function=None).count()


# --- 4. a bad corpus file never removes its document ---------------------------------------

@pytest.mark.parametrize("how", ["not-utf8", "empty", "renamed"])
def test_a_bad_corpus_file_deletes_nothing_and_the_api_is_not_ready(tmp_path, how):
    root, settings, embed = two_docs(tmp_path)
    meta = build_index(load_corpus(root), settings, embed)
    before = (chroma_count(settings), (settings.index_dir / "nodes.json").read_bytes())
    name = break_file(root, how)
    corpus = load_corpus(root)
    assert set(corpus.documents) == {"tiny"} and corpus.errors
    with pytest.raises(CorpusIncompleteError, match=name):
        build_index(corpus, settings, embed)
    with pytest.raises(CorpusIncompleteError, match=name):
        load_index(corpus, settings, embed, rebuild="auto")
    # nothing was deleted or rewritten: every vector and node of the failed document is still there
    assert (chroma_count(settings), (settings.index_dir / "nodes.json").read_bytes()) == before
    assert before[0] == meta["nodes"]
    # a worker that meets the broken file starts, not ready, and says why; it answers nothing partial
    with TestClient(create_app(settings)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and not r.json()["ready"]
        problems = r.json()["problems"]
        assert any(p["file"].endswith(name) and p["reason"] for p in problems), problems
        s = c.post("/v1/search", json={"query": "国际化战略"})
        assert s.status_code == 503 and s.json()["code"] == "corpus_incomplete" and name in s.json()["detail"]
        assert c.get("/v1/documents").status_code == 503
        assert c.get("/healthz").status_code == 200


def test_serve_with_a_bad_corpus_file_starts_not_ready_and_names_the_file(tmp_path):
    root, settings, embed = two_docs(tmp_path)
    build_index(load_corpus(root), settings, embed)
    break_file(root, "not-utf8")
    port = free_port()
    proc = start_serve({"BA_CORPUS_DIR": str(root), "BA_INDEX_DIR": str(settings.index_dir),
                        "BA_DATA_DIR": str(settings.data_dir), "BA_OPEN_MODE": "1"}, port)
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/healthz", 90), "serve did not start"
        r = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert r.status_code == 503 and "tiny2.txt" in r.json()["problems"][0]["file"]
        assert "UTF-8" in r.json()["problems"][0]["reason"]
        assert proc.poll() is None
    finally:
        _, err = stop_process(proc)
    assert "tiny2.txt" in err and "Traceback" not in err


# --- 5. index files are checked --------------------------------------------------------------

def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 40, len(data) - 8):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _swap_vocab(path: Path) -> None:
    vocab = json.loads(path.read_text(encoding="utf-8"))
    a, b = "品牌", "国际"
    vocab[a], vocab[b] = vocab[b], vocab[a]
    path.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")


def _reorder_nodes(path: Path) -> None:
    nodes = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(nodes[::-1], ensure_ascii=False), encoding="utf-8")


def _delete_chroma(index_dir: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    shutil.rmtree(index_dir / "chroma")
    SharedSystemClient.clear_system_cache()  # as a new process would: nothing of the store in memory


FAULTS = {
    "garbled BM25 data": (lambda d: _garble(d / "bm25" / "data.csc.index.npy"), "bm25/data.csc.index.npy"),
    "swapped vocabulary ids": (lambda d: _swap_vocab(d / "bm25" / "vocab.index.json"), "bm25/vocab.index.json"),
    "reordered nodes.json": (lambda d: _reorder_nodes(d / "nodes.json"), "nodes.json"),
    "missing userdict.txt": (lambda d: (d / "userdict.txt").unlink(), "userdict.txt 缺失"),
    "deleted chroma store": (_delete_chroma, "向量库"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_damaged_index_files_are_refused_or_rebuilt_never_loaded(tiny, fault):
    corpus, settings, embed = tiny
    damage, needle = FAULTS[fault]

    def results(index):
        r = HybridClauseRetriever(index, query_cache_size=0)
        return [[(h.doc_id, h.label, round(h.score, 6)) for h in r.search(q, top_k=5)]
                for q in ("国际化战略", "举报违法侵权行为", "诚信合规管控体系", "行业自律公约")]

    expected = results(load_index(corpus, settings, embed, rebuild="never"))
    damage(settings.index_dir)
    with pytest.raises(IndexMismatchError) as exc:
        load_index(corpus, settings, embed, rebuild="never")
    assert needle in exc.value.message and "brand-assistant index" in exc.value.message
    rebuilt = load_index(corpus, settings, embed, rebuild="auto")  # the corpus is there: rebuilt
    assert results(rebuilt) == expected
    assert load_index(corpus, settings, embed, rebuild="never").meta["files"]  # intact again


# --- 6. Chroma server loss --------------------------------------------------------------------

@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-faults")).start()
    yield server
    server.stop()


def _server_settings(base: Path, server: ChromaServer, **kw) -> Settings:
    return Settings(corpus_dir=base / "corpus", index_dir=base / "index", data_dir=base / "data",
                    chroma_host="127.0.0.1", chroma_port=server.port, chroma_token=server.token,
                    chroma_timeout=1.0, open_mode=True, rate_limit_per_minute=0, **kw)


def test_chroma_down_dead_or_frozen_is_503_and_recovers_without_restart(chroma, tmp_path):
    from assistant.index import chroma as chroma_mod

    corpus, local, embed = make_tiny(tmp_path)
    settings = _server_settings(tmp_path, chroma)
    build_index(corpus, settings, embed)
    chroma.stop()  # the API must start while Chroma is down
    index = load_index(corpus, settings, embed, rebuild="never")
    app = create_app(settings, chat=ChatService(index, HybridClauseRetriever(index, query_cache_size=0), settings))

    def down(c, expect_fast=False):
        t = time.perf_counter()
        r = c.post("/v1/search", json={"query": "国际化战略"})
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "dependency_unavailable" and "向量检索暂不可用" in r.json()["detail"]
        assert int(r.headers["retry-after"]) >= 1
        if expect_fast:  # the cool-down: no request waits on a server known to be down
            assert time.perf_counter() - t < 0.5
        rz = c.get("/readyz")
        assert rz.status_code == 503 and not rz.json()["dependencies"]["chroma"]["ok"]
        assert rz.json()["problems"][0]["dependency"] == "chroma"

    def up(c):
        time.sleep(chroma_mod.COOLDOWN + 0.2)
        rz = c.get("/readyz")
        assert rz.status_code == 200 and rz.json()["ready"], rz.text
        r = c.post("/v1/search", json={"query": "国际化战略"})
        assert r.status_code == 200 and r.json()["hits"][0]["clause"] == "3.1"

    with TestClient(app) as c:
        down(c)
        down(c, expect_fast=True)
        assert c.post("/v1/ask", json={"question": "国际化战略"}).status_code == 503
        assert c.get("/v1/documents").status_code == 200 and c.get("/healthz").status_code == 200
        chroma.start()
        up(c)  # recovered, no restart
        chroma.kill()  # SIGKILL: connection refused
        down(c)
        chroma.start()
        up(c)

    # frozen (SIGSTOP): the call times out, the event loop keeps serving other requests
    async def frozen():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as c:
            t0 = time.perf_counter()
            search = asyncio.create_task(c.post("/v1/search", json={"query": "举报违法侵权行为"}))
            await asyncio.sleep(0.2)
            t1 = time.perf_counter()
            docs = await c.get("/v1/documents")
            docs_s = time.perf_counter() - t1
            r = await search
            return r, time.perf_counter() - t0, docs, docs_s

    chroma.freeze()
    try:
        r, search_s, docs, docs_s = asyncio.run(frozen())
    finally:
        chroma.thaw()
    assert r.status_code == 503 and "时限内没有响应" in r.json()["detail"], r.text
    assert search_s < settings.chroma_timeout + 3
    assert docs.status_code == 200 and docs_s < 0.5, docs_s
    with TestClient(app) as c:
        up(c)


def test_a_bad_file_deletes_nothing_on_a_shared_chroma_server(chroma, tmp_path):
    root, settings, embed = two_docs(tmp_path, chroma_host="127.0.0.1", chroma_port=chroma.port,
                                     chroma_token=chroma.token)
    meta = build_index(load_corpus(root), settings, embed)
    break_file(root, "empty")
    with pytest.raises(CorpusIncompleteError, match="tiny2.txt"):
        build_index(load_corpus(root), settings, embed)
    assert chroma_count(settings) == meta["nodes"]  # the other instances keep every vector


def test_vectors_of_another_model_on_the_shared_server_are_refused_not_mixed(chroma, tmp_path):
    corpus, _, embed = make_tiny(tmp_path)
    settings = _server_settings(tmp_path, chroma)
    build_index(corpus, settings, embed)
    index = load_index(corpus, settings, embed, rebuild="never")
    other = tmp_path / "other"
    other.mkdir()
    build_index(corpus, settings.model_copy(update={"index_dir": other / "index"}),
                MockEmbedding(embed_dim=8, model_name="another-model"))
    app = create_app(settings, chat=ChatService(index, HybridClauseRetriever(index), settings))
    with TestClient(app) as c:
        r = c.post("/v1/search", json={"query": "国际化战略"})
        assert r.status_code == 503 and "不一致" in r.json()["detail"]
        assert c.get("/readyz").status_code == 503


# --- 7. no exception escapes; the connection stays open ---------------------------------------

def test_errors_are_json_and_keep_the_keep_alive_connection(tiny_module, tmp_path, monkeypatch):
    app = tiny_app(tiny_module, data_dir=tmp_path / "data", rate_limit_per_minute=0)
    chat = app.state.chat

    def boom(exc):
        def raise_(*a, **k):
            raise exc
        return raise_

    with serve_in_thread(app) as base:
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)

        def req(method, path, body=None):
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(r.read()), conn.sock.getsockname()

        status, _, _, sock = req("GET", "/v1/roles")
        assert status == 200
        cases = [
            (chat.retriever, "search", RuntimeError("boom"), "/v1/search", {"query": "品牌"}, 500, "internal_error"),
            (chat, "feedback", sqlite3.OperationalError("database or disk is full"), "/v1/feedback",
             {"session_id": "abc", "turn": 1, "rating": 1}, 503, "storage_unavailable"),
            (chat.retriever, "search", httpx.ConnectError("connection refused"), "/v1/search", {"query": "品牌"},
             503, "dependency_unavailable"),
        ]
        for obj, attr, exc, path, body, want, code in cases:
            monkeypatch.setattr(obj, attr, boom(exc))
            status, headers, payload, s = req("POST", path, body)
            assert (status, payload["code"]) == (want, code), payload
            assert payload["request_id"] and headers.get("connection") != "close"
            assert status == 500 or int(headers["retry-after"]) >= 1
            monkeypatch.undo()
            status, _, _, s2 = req("GET", "/v1/roles")  # the same TCP connection, still open
            assert status == 200 and s == s2 == sock
        conn.close()


def test_a_stalled_request_body_times_out_with_408(tiny_module, tmp_path):
    app = tiny_app(tiny_module, data_dir=tmp_path / "data", body_timeout=1.0)
    with serve_in_thread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 200\r\n\r\n{\"query\": ")
            t0 = time.perf_counter()
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            elapsed = time.perf_counter() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and 0.8 < elapsed < 5, (head, elapsed)
    assert "未在 1 秒内发送完毕" in json.loads(body)["detail"]


# --- 8. the session store is not a hard dependency -----------------------------------------------

def test_read_only_data_dir_search_and_documents_work_and_ask_answers_unstored(tmp_path):
    corpus, settings, _ = make_tiny(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"BA_CORPUS_DIR": str(settings.corpus_dir), "BA_INDEX_DIR": str(settings.index_dir),
           "BA_DATA_DIR": str(data), "BA_OPEN_MODE": "1"}
    proc = None
    try:
        with read_only(data):
            proc = start_serve(env, port)
            assert wait_for_http(base + "/readyz", 120), "serve did not become ready"
            rz = httpx.get(base + "/readyz").json()
            assert rz["ready"] and rz["degraded"] == ["sessions"] and "会话存储" in rz["dependencies"]["sessions"]["detail"]
            assert httpx.post(base + "/v1/search", json={"query": "国际化战略"}).json()["hits"][0]["clause"] == "3.1"
            assert httpx.get(base + "/v1/documents").status_code == 200
            a = httpx.post(base + "/v1/ask", json={"question": "国际化战略"})
            assert a.status_code == 200 and a.json()["supported"] and a.json()["stored"] is False
            assert any("会话存储暂不可用" in n for n in a.json()["notes"]) and a.json()["session_id"] == ""
            f = httpx.post(base + "/v1/feedback", json={"session_id": "abc", "turn": 1, "rating": 1})
            assert f.status_code == 503 and f.json()["code"] == "storage_unavailable" and f.headers["retry-after"]
            assert "只读" in f.json()["detail"] or "无法读写" in f.json()["detail"]
        # writable again: the same process stores the next turn (no restart)
        a = httpx.post(base + "/v1/ask", json={"question": "国际化战略"}).json()
        assert a["stored"] and a["session_id"] and a["turn"] == 1
    finally:
        if proc is not None:
            _, err = stop_process(proc)
            assert "Traceback" not in err, err[-2000:]


def test_full_disk_ask_still_answers_and_feedback_is_503(tiny_module, tmp_path, monkeypatch):
    with TestClient(tiny_app(tiny_module, data_dir=tmp_path / "data")) as c:
        first = c.post("/v1/ask", json={"question": "国际化战略"}).json()
        store = c.app.state.chat.store
        connect = store._connect

        def full():  # SQLite's page limit: a write that needs a new page fails with SQLITE_FULL
            conn = connect()
            conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
            return conn

        monkeypatch.setattr(store, "_connect", full)
        question = "国际化战略" + "怎样制定品牌海外保护措施" * 120
        r = c.post("/v1/ask", json={"question": question, "session_id": first["session_id"]})
        assert r.status_code == 200 and r.json()["stored"] is False and r.json()["answer"]
        assert any("会话存储暂不可用" in n for n in r.json()["notes"])
        f = c.post("/v1/feedback", json={"session_id": first["session_id"], "turn": 1, "rating": 1,
                                         "comment": "很有用" * 600})
        assert f.status_code == 503 and "磁盘空间已满" in f.json()["detail"] and f.headers["retry-after"]
        assert c.post("/v1/search", json={"query": "国际化战略"}).status_code == 200
        monkeypatch.undo()
        again = c.post("/v1/ask", json={"question": "第一条具体怎么做？", "session_id": first["session_id"]}).json()
        assert again["stored"] and again["turn"] == 2  # the full disk lost no earlier turn
