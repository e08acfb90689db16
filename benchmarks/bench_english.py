"""What the English glossary costs a question (assistant/index/glossary.py).

  .venv/bin/python benchmarks/bench_english.py [--rounds 3]

The English questions of evals/calibration2 and as many of its Chinese ones, searched with the
query-vector cache off (every vector computed), with the index's glossary and without it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from assistant.service import make_retriever, open_index
    from assistant.settings import Settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    settings = Settings()
    index = open_index(settings)
    rows = [json.loads(x) for x in (ROOT / "evals" / "calibration2" / "questions.jsonl").read_text().splitlines() if x]
    english = [r["q"] for r in rows if "voice:english" in r["tags"]]
    chinese = [r["q"] for r in rows if "voice:english" not in r["tags"]][: len(english)]
    glossary = index.glossary
    for label, g in (("with the glossary", glossary), ("without", None)):
        index.glossary = g
        retriever = make_retriever(index, settings, curated=None, query_cache_size=0)
        retriever.retrieve_all("预热")
        for name, questions in (("English", english), ("Chinese", chinese)):
            times = []
            for _ in range(args.rounds):
                for q in questions:
                    t = time.perf_counter()
                    retriever.retrieve_all(q)
                    times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"{label:18s} {name:8s} n={len(questions):3d}  p50 {statistics.median(times):7.1f} ms  "
                  f"p95 {times[int(0.95 * (len(times) - 1))]:7.1f} ms")
    index.glossary = glossary


if __name__ == "__main__":
    main()
