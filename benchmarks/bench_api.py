"""Load test of the HTTP API on loopback (bounded: fixed duration, fixed concurrency).

Starts `brand-assistant serve` (open mode, rate limit off, its own data dir), then for
each endpoint drives `--concurrency` connections for `--seconds` with the questions of
benchmarks/questions.jsonl (333 distinct questions written from the corpus, none from
the gold set; benchmarks/questions.py), and reports requests/s, p50/p99 latency and
errors. Only 127.0.0.1 is used. Uses wrk (Debian package `wrk`, installed by
scripts/setup.sh) — a Python load generator on the same 2 cores steals most of the CPU
from the server — and a bounded httpx generator otherwise (`--python` forces it).
`--chroma` runs the same against a Chroma server (`brand-assistant chroma-serve`, token
on), with a fresh index built into it.

    .venv/bin/python benchmarks/bench_api.py [--seconds 30] [--concurrency 32] [--workers 2]
        [--query-cache-size 0] [--chroma]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def drive(url: str, payloads: list[dict], seconds: float, concurrency: int) -> dict:
    lat: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker(k: int) -> None:
            i = k
            while time.perf_counter() < stop:
                body = payloads[i % len(payloads)]
                i += concurrency
                t = time.perf_counter()
                try:
                    r = await client.post(url, json=body)
                    if r.status_code != 200:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                lat.append((time.perf_counter() - t) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - t0
    lat.sort()
    return {"requests": len(lat), "seconds": round(elapsed, 1), "rps": round(len(lat) / elapsed, 1),
            "p50_ms": round(statistics.median(lat), 1), "p99_ms": round(lat[int(0.99 * len(lat)) - 1], 1),
            "errors": errors}


LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {BODIES}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
"""


def drive_wrk(url: str, payloads: list[dict], seconds: float, concurrency: int) -> dict:
    import re
    import shutil

    bodies = ", ".join("[==[" + json.dumps(p, ensure_ascii=False) + "]==]" for p in payloads)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(LUA.replace("{BODIES}", "{" + bodies + "}"))
    out = subprocess.run([shutil.which("wrk"), f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
                          "-s", f.name, url], capture_output=True, text=True, timeout=seconds + 60).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return round(v / 1000 if unit == "us" else v * 1000 if unit == "s" else v, 1)

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50"), "p99_ms": ms("99"),
            "errors": {"non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket": sock.group(1) if sock else ""},
            "tool": "wrk"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--query-cache-size", type=int,
                    help="BA_QUERY_CACHE_SIZE for the server (0 = every request embeds its query)")
    ap.add_argument("--only", choices=["search", "ask"], help="drive only this endpoint")
    ap.add_argument("--python", action="store_true", help="use the httpx generator even if wrk is installed")
    ap.add_argument("--chroma", action="store_true", help="vectors on a Chroma server (chroma-serve, token on)")
    ap.add_argument("--chroma-no-proxy", action="store_true",
                    help="measurement only: the API talks to chroma run directly (no token check), to price the proxy")
    ap.add_argument("--questions", default=str(ROOT / "benchmarks" / "questions.jsonl"))
    args = ap.parse_args()
    questions = list(dict.fromkeys(json.loads(x)["question"] for x in
                                   Path(args.questions).read_text(encoding="utf-8").splitlines() if x.strip()))
    if len(questions) < 300:
        raise SystemExit(f"{args.questions}: {len(questions)} distinct questions, the benchmark needs at least 300")
    port = free_port()
    data = tempfile.mkdtemp(prefix="ba-bench-")
    # the access log goes to a file: on stderr it would cost a write per request to a pipe nobody reads
    env = {**os.environ, "BA_OPEN_MODE": "1", "BA_RATE_LIMIT_PER_MINUTE": "0", "BA_DATA_DIR": data,
           "BA_ACCESS_LOG": "0", "BA_ACCESS_LOG_FILE": os.path.join(data, "access.jsonl")}
    if args.query_cache_size is not None:
        env["BA_QUERY_CACHE_SIZE"] = str(args.query_cache_size)
    exe = Path(sys.executable).parent / "brand-assistant"
    chroma = None
    if args.chroma_no_proxy:
        cport = free_port()
        chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path",
                                   os.path.join(data, "chroma"), "--host", "127.0.0.1", "--port", str(cport)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{cport}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # chroma run ignores the token; the client insists on one
        env.update({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(cport), "CHROMA_TOKEN": "unused",
                    "BA_INDEX_DIR": os.path.join(data, "index")})
    elif args.chroma:
        cport, token = free_port(), "bench-token"
        chroma = subprocess.Popen([str(exe), "chroma-serve", "--path", os.path.join(data, "chroma"),
                                   "--port", str(cport)], env={**env, "CHROMA_TOKEN": token},
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        chroma.stdout.readline()  # printed once chroma run answers
        env.update({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(cport), "CHROMA_TOKEN": token,
                    "BA_INDEX_DIR": os.path.join(data, "index")})
    server = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("server did not become ready")
        time.sleep(2)  # let every worker finish loading
        import shutil

        def run(path: str, payloads: list[dict]) -> dict:
            if shutil.which("wrk") and not args.python:
                return drive_wrk(base + path, payloads, args.seconds, args.concurrency)
            return {**asyncio.run(drive(base + path, payloads, args.seconds, args.concurrency)), "tool": "httpx"}

        results = {}
        if args.only in (None, "search"):
            results["search"] = run("/v1/search", [{"query": q} for q in questions])
        if args.only in (None, "ask"):
            results["ask"] = run("/v1/ask", [{"question": q} for q in questions])
    finally:
        server.terminate()
        server.wait(timeout=30)
        if chroma is not None:
            import signal

            os.killpg(chroma.pid, signal.SIGTERM)
            chroma.wait(timeout=30)
    results["config"] = {"workers": args.workers, "concurrency": args.concurrency, "seconds": args.seconds,
                         "query_cache_size": env.get("BA_QUERY_CACHE_SIZE", "default"),
                         "distinct_questions": len(questions),
                         "vector_store": ("chroma run, no proxy (measurement only)" if args.chroma_no_proxy else
                                          "chroma-server (chroma-serve, token)" if args.chroma else "embedded")}
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
