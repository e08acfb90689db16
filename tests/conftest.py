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

MANIFEST = ('[[document]]\ndoc_id = "tiny"\nfile = "tiny.txt"\ntitle = "微型标准"\ncode = "T/TINY 1—2026"\n'
            'kind = "团体标准"\nnature = "group-standard"\nstatus = "现行"\n')


def make_tiny(base: Path, embed=None):
    """The tiny corpus under base/corpus, indexed into base/index with a fake embedder
    (MockEmbedding unless another is given)."""
    import shutil

    from llama_index.core.embeddings import MockEmbedding

    from assistant.corpus.store import load_corpus
    from assistant.index.store import build_index
    from assistant.settings import Settings

    root = base / "corpus"
    root.mkdir()
    shutil.copytree(CORPUS / "vocab", root / "vocab")
    # the fitted decisions read e5's similarities over the real corpus; on this corpus, with a
    # fake embedder, the unit tests use a fixed one (answered unless a slot is asked and not
    # filled) and the none rule the judge falls back to (the fitted models are tested on the
    # real corpus, and on their own in tests/test_answer_unit.py)
    (root / "vocab" / "offdomain_model.json").unlink(missing_ok=True)
    from assistant.answer.evidence import EvidenceModel

    EvidenceModel(["slot"], [-4.0], 2.0, [0.0], [1.0], meta={"note": "tests: fixed"}).save(
        root / "vocab" / "evidence_model.json")
    (root / "tiny.txt").write_text(DOC, encoding="utf-8")
    (root / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    settings = Settings(corpus_dir=root, index_dir=base / "index", data_dir=base / "data",
                        embed_cache_dir=base / "cache")
    corpus = load_corpus(root)
    embed = embed or MockEmbedding(embed_dim=8)
    build_index(corpus, settings, embed)
    return corpus, settings, embed


class BigramEmbedding:
    """A fake embedder with meaning enough for unit tests of the answer stage: character
    bigrams hashed into 256 dimensions (texts sharing words are close, unrelated ones far)."""

    @staticmethod
    def make():
        import hashlib

        import numpy as np
        from llama_index.core.embeddings import BaseEmbedding

        def vec(text: str) -> list[float]:
            v = np.zeros(256, dtype=np.float32)
            chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
            for a, b in zip(chars, chars[1:]):
                v[int(hashlib.md5((a + b).encode()).hexdigest(), 16) % 256] += 1.0
            n = np.linalg.norm(v)
            return list(map(float, v / n)) if n else [1.0 / 16] * 256

        class _Bigram(BaseEmbedding):
            @classmethod
            def class_name(cls) -> str:
                return "BigramEmbedding"

            def _get_query_embedding(self, query: str) -> list[float]:
                return vec(query)

            def _get_text_embedding(self, text: str) -> list[float]:
                return vec(text)

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return vec(query)

        return _Bigram(model_name="bigram-256")


@pytest.fixture
def tiny_lexical(tmp_path):
    """The one-document corpus indexed with the bigram fake: (corpus, settings, embed)."""
    return make_tiny(tmp_path, BigramEmbedding.make())


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


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory):
    """The default configuration (e5 embeddings, embedded chroma) on the real corpus, in a
    temporary index directory. Passage vectors come from the shared embedding cache
    (.cache/), so only the first build of a CI run pays for the model."""
    from assistant.settings import Settings

    tmp = tmp_path_factory.mktemp("real")
    return Settings(corpus_dir=CORPUS, index_dir=tmp / "index", data_dir=tmp / "data")


@pytest.fixture(scope="session")
def real_index(real_settings, corpus):
    """The real corpus indexed with the real bundled default model (integration)."""
    from assistant.index.embeddings import make_embedding
    from assistant.index.store import build_index, load_index

    embed = make_embedding(real_settings)
    meta = build_index(corpus, real_settings, embed)
    assert meta["embedded_now"] == meta["nodes"] and meta["embedding"].startswith("E5Embedding")
    return load_index(corpus, real_settings, embed, rebuild="never")


@pytest.fixture(scope="session")
def real_chat(real_index, real_settings, tmp_path_factory):
    """The chat service on the real index, sessions in a temporary file."""
    from assistant.chat.service import ChatService
    from assistant.chat.sessions import SessionStore
    from assistant.service import make_retriever

    tmp = tmp_path_factory.mktemp("chat")
    return ChatService(real_index, make_retriever(real_index, real_settings), real_settings,
                       store=SessionStore(tmp / "sessions.sqlite3"))


class ChromaServer:
    """`brand-assistant chroma-serve` (chroma run on loopback behind the token proxy) as a
    real process group, for the server-mode and fault tests: kill, freeze, restart."""

    def __init__(self, data: Path, token: str = "test-chroma-token", port: int | None = None) -> None:
        self.data, self.token, self.port = data, token, port or free_port()
        self.proc = None
        self.inner_port: int | None = None

    def start(self, timeout: float = 60) -> "ChromaServer":
        import re
        import subprocess
        import sys

        exe = Path(sys.executable).parent / "brand-assistant"
        self.proc = subprocess.Popen(
            [str(exe), "chroma-serve", "--path", str(self.data), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "CHROMA_TOKEN": self.token, "ANONYMIZED_TELEMETRY": "False"})
        line = self.proc.stdout.readline()  # printed once chroma run answers
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m or not wait_for_http(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout):
            self.kill()
            raise RuntimeError(f"chroma-serve did not start: {line!r} {self.proc.stderr.read()[:500]!r}")
        self.inner_port = int(m.group(1))
        return self

    def signal(self, sig) -> None:
        os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def freeze(self) -> None:
        import signal

        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        import signal

        self.signal(signal.SIGCONT)

    def stop(self) -> None:
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        self.thaw()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def listen_addresses(port: int) -> set[str]:
    """The local IPv4 addresses a TCP socket listens on at port (from /proc/net/tcp)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:  # LISTEN
            out.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


class read_only:
    """Make a directory tree read-only for this process, as a real fault. As root
    (CI here) permission bits do not stop writes, so the immutable attribute is used
    (chattr +i); otherwise chmod. Skips the test when neither is possible."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.mode = None

    def __enter__(self):
        import subprocess

        if os.geteuid() == 0:
            r = subprocess.run(["chattr", "-R", "+i", str(self.path)], capture_output=True)
            if r.returncode != 0:
                pytest.skip(f"cannot make {self.path} read-only: {r.stderr.decode()[:200]}")
            self.mode = "chattr"
        else:
            for p in [self.path, *self.path.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
            self.mode = "chmod"
        try:
            (self.path / ".probe").write_text("x")
        except OSError:
            return self
        self.__exit__(None, None, None)
        pytest.skip(f"{self.path} is still writable")

    def __exit__(self, *exc) -> None:
        import subprocess

        if self.mode == "chattr":
            subprocess.run(["chattr", "-R", "-i", str(self.path)], check=True)
        elif self.mode == "chmod":
            for p in [self.path, *self.path.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
        self.mode = None


def serve_in_thread(app, **config):
    """A real uvicorn server for app on a free loopback port, in a thread: a context
    manager yielding its base URL (for tests about connections and sockets)."""
    import contextlib
    import threading

    import uvicorn

    @contextlib.contextmanager
    def run():
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, **config))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    return run()


def start_serve(env: dict, port: int, workers: int = 1):
    """`brand-assistant serve` as a real process (its own process group)."""
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "brand-assistant"
    return subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **env})


def stop_process(proc) -> tuple[str, str]:
    import signal
    import subprocess

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.communicate(timeout=10)
