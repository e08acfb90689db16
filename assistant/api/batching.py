"""Dynamic batching of query embeddings across the concurrent requests of one worker.

Embedding the query is most of the CPU of a search, and the model embeds a batch of 16
queries for about a third of the cost of 16 single calls. Each search request hands
its question to the batcher and awaits its vector; while one batch is being embedded
(in a worker thread: numpy releases the GIL), the event loop keeps parsing requests
and scoring the ones whose vectors are ready, and new questions queue for the next
batch. With one request at a time a batch is one question, so nothing waits.
"""

from __future__ import annotations

import asyncio

import numpy as np
from starlette.concurrency import run_in_threadpool

from assistant.retrieval.retriever import HybridClauseRetriever


class QueryVectorBatcher:
    def __init__(self, retriever: HybridClauseRetriever, max_batch: int = 32) -> None:
        self.retriever = retriever
        self.max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self.batches = 0  # how many model calls were made (for tests and diagnostics)

    async def vector(self, question: str) -> np.ndarray | None:
        """The dense-side vector for this question (None when retrieval is BM25 only)."""
        if self.retriever.mode == "bm25":
            return None
        text = self.retriever.dense_text(question)
        cached = self.retriever.cached_vector(text)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending.append((text, fut))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let requests that are already readable join this batch
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            live = [(t, f) for t, f in batch if not f.done()]  # a client may have gone away
            if not live:
                continue
            try:
                vectors = await run_in_threadpool(self.retriever.query_vectors, [t for t, _ in live])
            except Exception as exc:  # every waiter gets the error; the route maps it
                for _, f in live:
                    if not f.done():
                        f.set_exception(exc)
                continue
            self.batches += 1
            for (_, f), v in zip(live, vectors):
                if not f.done():
                    f.set_result(v)
