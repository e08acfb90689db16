"""Pages read by OCR in worker processes (`OcrOptions.workers` > 1).

Each worker is `python -m assistant.ingest.ocrworker`, started with subprocess and fed page
images over its stdin (length-prefixed pickles; the parent and its workers are this same
code). Not multiprocessing: its spawn start method re-imports the parent's main script
(a Streamlit page, a test runner), which fails or runs code twice inside the UI and API
servers; a plain child process has no such tie.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack("<Q", head)
    return pickle.loads(stream.read(n))


def serve(stdin=None, stdout=None) -> None:
    """The worker: the engine named in the first message, then one page per message."""
    import traceback

    from assistant.ingest.ocr import OcrOptions, make_engine, read_page

    stdin = stdin or sys.stdin.buffer
    if stdout is None:  # the protocol keeps fd 1; anything a library prints goes to stderr
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
    name, opts = _recv(stdin)
    engine = make_engine(name, options=OcrOptions(**opts))
    while True:
        msg = _recv(stdin)
        if msg is None:
            return
        k, png = msg
        try:
            _send(stdout, (k, read_page(engine, png), None))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises
            _send(stdout, (k, None, traceback.format_exc()))


def _start(name: str, opts: dict) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.Popen([sys.executable, "-m", "assistant.ingest.ocrworker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    _send(proc.stdin, (name, opts))
    return proc


def read_pages_in_workers(name: str, opts: dict, pngs, count: int, workers: int, on_page=None) -> list:
    """Each page to the next free worker; results in page order. `pngs` may be a generator
    (pages are rendered as workers become free, one at a time); `count`: how many it yields.
    `on_page(done)` is called in the calling thread as pages finish."""
    source = enumerate(pngs)
    lock = threading.Lock()
    done: queue.Queue = queue.Queue()
    procs = [_start(name, opts) for _ in range(workers)]

    def feed(proc: subprocess.Popen) -> None:
        try:
            while True:
                with lock:
                    nxt = next(source, None)
                if nxt is None:
                    return
                k, png = nxt
                _send(proc.stdin, (k, png))
                reply = _recv(proc.stdout)
                if reply is None:
                    done.put((k, None, f"OCR worker exited (code {proc.poll()})"))
                    return
                done.put(reply)
        except (BrokenPipeError, OSError) as exc:
            done.put((-1, None, f"OCR worker failed: {exc}"))

    threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in procs]
    for t in threads:
        t.start()
    results: dict[int, object] = {}
    try:
        while len(results) < count:
            try:
                k, read, err = done.get(timeout=1.0)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    raise RuntimeError("OCR workers stopped before every page was read") from None
                continue
            if err:
                raise RuntimeError(err)
            results[k] = read
            if on_page:
                on_page(len(results))
    finally:
        for p in procs:
            try:
                p.stdin.close()
            except OSError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return [results[k] for k in range(count)]


if __name__ == "__main__":
    serve()
