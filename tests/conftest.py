from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

# Never reach for a model hub, even by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def wait_for_http(url: str, seconds: float, interval: float = 0.2) -> bool:
    """Poll url until it answers 200 (True) or the time is up (False), for servers the tests start."""
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False


def free_port() -> int:
    """A free TCP port on the loopback interface, for servers the tests start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DOC = """1 范围

本文件规定了区域品牌培育的要求。

2 职责

2.1 行业社会组织

2.1.1 宜推动制定行业自律公约。服务包括但不限于以下内容：

- a) 应开展市场监测与舆情分析，举报违法侵权行为；
- b) 宜组织品牌推介活动。

2.2 品牌授权企业

应建立诚信合规内部管控体系。

3 国际化

3.1 宜制定国际化战略，建立品牌海外保护措施。
"""

MANIFEST = '[[document]]\ndoc_id = "tiny"\nfile = "tiny.txt"\ntitle = "微型标准"\ncode = "T/TINY 1—2026"\nkind = "团体标准"\n'


def make_tiny(base: Path):
    """The tiny corpus under base/corpus, indexed into base/index with a fake embedder."""
    import shutil

    from llama_index.core.embeddings import MockEmbedding

    from assistant.corpus.store import load_corpus
    from assistant.index.store import build_index
    from assistant.settings import Settings

    root = base / "corpus"
    root.mkdir()
    shutil.copytree(CORPUS / "vocab", root / "vocab")
    (root / "tiny.txt").write_text(DOC, encoding="utf-8")
    (root / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    settings = Settings(corpus_dir=root, index_dir=base / "index", data_dir=base / "data")
    corpus = load_corpus(root)
    embed = MockEmbedding(embed_dim=8)
    build_index(corpus, settings, embed)
    return corpus, settings, embed


@pytest.fixture
def tiny(tmp_path):
    """A one-document corpus, indexed with a fake embedder: (corpus, settings, embed)."""
    return make_tiny(tmp_path)


@pytest.fixture(scope="module")
def tiny_module(tmp_path_factory):
    """The tiny corpus and index, built once per test module (tests that only read it)."""
    return make_tiny(tmp_path_factory.mktemp("tiny"))


def tiny_app(tiny, **overrides):
    """The API app on the tiny corpus (BM25 retrieval, open mode unless overridden)."""
    from assistant.api.app import create_app
    from assistant.chat.service import ChatService
    from assistant.index.store import load_index
    from assistant.retrieval.retriever import HybridClauseRetriever

    corpus, settings, embed = tiny
    settings = settings.model_copy(update={"open_mode": True, **overrides})
    index = load_index(corpus, settings, embed, rebuild="never")
    chat = ChatService(index, HybridClauseRetriever(index, mode="bm25"), settings)
    return create_app(settings, chat=chat)


@pytest.fixture(scope="session")
def corpus():
    from assistant.corpus.store import load_corpus

    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def vocab():
    from assistant.corpus.vocab import load_vocab

    return load_vocab(CORPUS / "vocab")


class StubLLM:
    """A local OpenAI-compatible chat server on 127.0.0.1 for the LLM plumbing tests.
    `reply` is the assistant content it returns; `status` and `delay` simulate failures."""

    def __init__(self) -> None:
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stub = self
        self.reply = ""
        self.status = 200
        self.delay = 0.0
        self.requests: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append(body)
                time.sleep(stub.delay)
                if stub.status != 200:
                    self.send_response(stub.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "stub failure"}}')
                    return
                payload = {
                    "id": "stub-1", "object": "chat.completion", "created": 0, "model": body.get("model", "stub"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": stub.reply}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_llm():
    stub = StubLLM()
    yield stub
    stub.close()
