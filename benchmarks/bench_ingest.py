"""Ingest performance: speed of adding a document, OCR per page, and how costs grow with the
corpus (results and the commands in benchmarks/README.md, "Ingest").

    .venv/bin/python benchmarks/bench_ingest.py speed     # a ~30-page text PDF: extract, parse, embed (e5), index
    .venv/bin/python benchmarks/bench_ingest.py ocr --pages 4 [--engine rapidocr|tesseract]
    .venv/bin/python benchmarks/bench_ingest.py ocr-speed --pages 8 [--configs opt-2x1,…|all] [--wait-quiet]
    .venv/bin/python benchmarks/bench_ingest.py growth --scales 1,10,100

growth: the corpus grown to N× with renamed copies of the five documents whose text is
perturbed (a copy number inserted in every long line, so every unit differs and nothing
comes from the embedding cache). For each scale: full build time, incremental add time
(`KnowledgeBase.add` of one more document: staging, index copy, incremental build, swap),
index size on disk, memory of a process with the index loaded (what an API worker holds),
search p50/p95 in-process. The passage vectors come from a deterministic 384-d hash
embedder (the e5 dimension), so that 100× (≈84,000 units) is measurable here; the e5 model's
own cost is linear in the units embedded and is measured once (`embed_rate`) and added as
`full_build_e5_est_s` = build + units / rate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from assistant.settings import Settings  # noqa: E402

CORPUS = ROOT / "corpus"


def hash_embedding(dim: int = 384):
    import numpy as np
    from llama_index.core.embeddings import BaseEmbedding

    def vec(text: str) -> list[float]:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
        return list(map(float, v / np.linalg.norm(v)))

    class HashEmbedding(BaseEmbedding):
        @classmethod
        def class_name(cls) -> str:
            return "HashEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return vec(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return vec(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [vec(t) for t in texts]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return vec(query)

    return HashEmbedding(model_name=f"hash-{dim}")


def perturb(text: str, k: int) -> str:
    out = []
    for line in text.splitlines():
        if len(line.strip()) > 14 and not line.startswith("\t") and "\t" not in line and not line.startswith("#"):
            cut = 10 + (len(line) - 10) // 2
            line = line[:cut] + f"（第{k}稿）" + line[cut:]
        out.append(line)
    return "\n".join(out) + "\n"


def grow(dst: Path, scale: int) -> None:
    """corpus × scale: the originals plus scale-1 perturbed, renamed copies of each."""
    import tomllib

    shutil.copytree(CORPUS / "vocab", dst / "vocab")
    manifest = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    blocks = [manifest]
    docs = tomllib.loads(manifest)["document"]
    for k in range(1, scale):
        for d in docs:
            src = (CORPUS / d["file"]).read_text(encoding="utf-8")
            new_id = f"{d['doc_id']}-c{k}"
            suffix = Path(d["file"]).suffix
            (dst / f"{new_id}{suffix}").write_text(perturb(src, k), encoding="utf-8")
            fields = {**d, "doc_id": new_id, "file": f"{new_id}{suffix}", "aliases": []}
            blocks.append("[[document]]\n" + "\n".join(
                f"{key} = {json.dumps(v, ensure_ascii=False)}" for key, v in fields.items() if key != "aliases") + "\n")
    for d in docs:
        shutil.copy2(CORPUS / d["file"], dst / d["file"])
    (dst / "manifest.toml").write_text("\n".join(blocks), encoding="utf-8")


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


WORKER = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
from bench_ingest import hash_embedding
from assistant.corpus.store import load_corpus
from assistant.index.store import load_index
from assistant.retrieval.retriever import HybridClauseRetriever
from assistant.settings import Settings
s = Settings(corpus_dir=sys.argv[2], index_dir=sys.argv[3], embed_cache_dir="")
t = time.perf_counter()
corpus = load_corpus(s.corpus_dir)
index = load_index(corpus, s, hash_embedding(), rebuild="never")
load_s = time.perf_counter() - t
r = HybridClauseRetriever(index)
qs = [json.loads(l)["question"] for l in open(sys.argv[1] + "/benchmarks/questions.jsonl", encoding="utf-8")][:80]
for q in qs[:10]:
    r.search(q)
lat = []
for q in qs:
    t = time.perf_counter(); r.search(q); lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(json.dumps({"load_s": round(load_s, 2), "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "search_p50_ms": round(statistics.median(lat), 1), "search_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1)}))
"""


def growth(scales: list[int], keep: Path | None = None) -> list[dict]:
    from assistant.corpus.store import load_corpus
    from assistant.corpus.vocab import load_vocab
    from assistant.index.store import build_index
    from assistant.ingest.kb import KnowledgeBase
    from assistant.ingest.pipeline import ingest_file

    embed = hash_embedding()
    rows = []
    for scale in scales:
        with tempfile.TemporaryDirectory(dir=keep) as tmp:
            tmp = Path(tmp)
            grow(tmp / "corpus", scale)
            s = Settings(corpus_dir=tmp / "corpus", index_dir=tmp / "index", data_dir=tmp / "data", embed_cache_dir="")
            t = time.perf_counter()
            corpus = load_corpus(s.corpus_dir)
            parse_s = time.perf_counter() - t
            units = sum(len(d.units) for d in corpus.documents.values())
            t = time.perf_counter()
            meta = build_index(corpus, s, embed)
            build_s = time.perf_counter() - t
            new = tmp / "extra.txt"
            new.write_text(perturb((CORPUS / "hzas-8-2020.txt").read_text(encoding="utf-8"), 9999), encoding="utf-8")
            result = ingest_file(new, load_vocab(s.vocab_dir), doc_id="extra-9999", title="增量添加测试",
                                 code="T/HZAS 8—2020", nature="group-standard")
            t = time.perf_counter()
            add = KnowledgeBase(s, embed=embed).add(result, new)
            add_s = time.perf_counter() - t
            size = du(s.index_dir)
            worker = subprocess.run([sys.executable, "-c", WORKER, str(ROOT), str(s.corpus_dir), str(s.index_dir)],
                                    capture_output=True, text=True, timeout=3600)
            w = json.loads(worker.stdout.strip().splitlines()[-1]) if worker.returncode == 0 else {"error": worker.stderr[-500:]}
            row = {"scale": scale, "documents": len(corpus.documents), "units": units, "nodes": meta["nodes"],
                   "parse_s": round(parse_s, 1), "full_build_s": round(build_s, 1), "add_one_s": round(add_s, 1),
                   "add_embedded": add.get("embedded_now"), "index_mb": round(size / 2**20, 1), **w}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows


def embed_rate(n: int = 300) -> float:
    """e5 passages per second on this machine (2 threads), on n distinct corpus units."""
    from assistant.corpus.store import load_corpus
    from assistant.index.embeddings import make_embedding

    s = Settings(embed_threads=2, embed_cache_dir="")
    corpus = load_corpus(CORPUS)
    texts = [f"{u.title or ''} {u.text}" for u in corpus.units() if u.text][:n]
    embed = make_embedding(s)
    embed.get_text_embedding_batch(texts[:8])
    t = time.perf_counter()
    embed.get_text_embedding_batch(texts)
    return len(texts) / (time.perf_counter() - t)


def speed(out: Path, wait: bool = False) -> dict:
    """A ~30-page text PDF (T/GXAS 1220 rendered at 12.5 pt) added to a copy of the corpus
    whose index is already built: extraction + parse, then the incremental index update with
    the real e5 model and no embedding cache (every unit of the new document is embedded).
    By default the add defers the passage vectors (as the CLI, API and UI do): the figure
    is the time until the document is in and searchable by its words, then the time
    complete_vectors() takes; wait=True embeds them inside the add (the old behaviour)."""
    import pymupdf

    import roundtrip
    from assistant.corpus.manifest import load_manifest
    from assistant.corpus.store import load_corpus
    from assistant.corpus.vocab import load_vocab
    from assistant.index.embeddings import make_embedding
    from assistant.index.store import build_index
    from assistant.ingest.kb import KnowledgeBase
    from assistant.ingest.pipeline import ingest_file

    out.mkdir(parents=True, exist_ok=True)
    spec = next(s for s in load_manifest(CORPUS) if s.doc_id == "gxas-1220-2026")
    text = perturb((CORPUS / spec.file).read_text(encoding="utf-8"), 1)
    docx = roundtrip.render_docx(spec, text, out / "gxas-30p.docx", size=12.5)
    pdf = roundtrip.to_pdf(docx, out)
    pages = pymupdf.open(str(pdf)).page_count
    corpus_dir = out / "corpus"
    if corpus_dir.exists():
        shutil.rmtree(corpus_dir)
    shutil.copytree(CORPUS, corpus_dir)
    s = Settings(corpus_dir=corpus_dir, index_dir=out / "index", data_dir=out / "data",
                 embed_cache_dir=str(ROOT / ".cache"), embed_threads=2)
    build_index(load_corpus(corpus_dir), s, make_embedding(s))  # the existing corpus (from the cache)
    s = s.model_copy(update={"embed_cache_dir": None})
    embed = make_embedding(s)
    embed.get_query_embedding("预热")
    kb = KnowledgeBase(s, embed=embed)
    t0 = time.perf_counter()
    result = ingest_file(pdf, load_vocab(s.vocab_dir), doc_id="gxas-30p", title=spec.title + "（30页）",
                         code="T/GXAS 1220—2026", nature="group-standard")
    t1 = time.perf_counter()
    meta = kb.add(result, pdf, defer_vectors=not wait)
    t2 = time.perf_counter()
    found = _found_by_words(s, embed, result) if not wait else None
    t3 = time.perf_counter()
    vectors = kb.complete_vectors()
    t4 = time.perf_counter()
    found_after = _found_by_words(s, embed, result)
    return {"pages": pages, "units": len(result.units), "extract_parse_s": round(t1 - t0, 2),
            "index_s": round(t2 - t1, 2), "embedded": meta.get("embedded_now"),
            "pending": sum((meta.get("dense_pending") or {}).values()), "searchable_after_s": round(t2 - t0, 2),
            "found_while_pending": found, "found_with_vectors": found_after,
            "vectors_s": round(t4 - t3, 2) if vectors else None,
            "embedded_later": vectors.get("embedded_now") if vectors else None, "load": os.getloadavg()}


def _found_by_words(s, embed, result, n: int = 40) -> str:
    """Of n units of the new document (sampled evenly), how many a search for their own
    text (first 30 characters) puts in the top 5. The document is a perturbed copy of
    T/GXAS 1220, whose nearly identical units compete for the same places."""
    from assistant.index.store import load_index
    from assistant.retrieval.retriever import HybridClauseRetriever, SearchFilters
    from assistant.service import open_corpus

    index = load_index(open_corpus(s), s, embed, rebuild="never")
    retriever = HybridClauseRetriever(index)
    units = [u for u in result.units if len(u.text) >= 20]
    sample = units[:: max(1, len(units) // n)][:n]
    only = SearchFilters(doc_ids=["gxas-30p"])
    hit = sum(any(h.doc_id == "gxas-30p" and u.label in h.labels for h in retriever.search(u.text[:30], top_k=5))
              for u in sample)
    inside = sum(any(u.label in h.labels for h in retriever.search(u.text[:30], only, top_k=5)) for u in sample)
    return f"{hit}/{len(sample)} (in the document alone: {inside}/{len(sample)})"


def ocr(pages: int, engine: str, out: Path) -> dict:
    """Seconds per page and character accuracy of one engine on the first `pages` body pages
    of T/GXAS 1220 scanned at 200 dpi (reference: the same pages' text layer)."""
    from assistant.ingest.ocr import make_engine
    from assistant.ingest.pdf import extract_pdf

    scan, ref_text, labels = _ocr_pages(pages, out)
    eng = make_engine(engine)
    if eng is None:
        return {"engine": engine, "error": "not available"}
    t = time.perf_counter()
    ex = extract_pdf(scan, eng)
    secs = time.perf_counter() - t
    return {"engine": engine, "pages": pages, "s_per_page": round(secs / pages, 2), **_ocr_score(ex, ref_text, labels),
            "mean_confidence": ex.ocr_confidence, "load": os.getloadavg()}


# --- OCR speed: engine options -----------------------------------------------------------

OCR_CONFIGS = {
    # name: OcrOptions fields (models "wheel" = the rapidocr wheel's own model files)
    "wheel-1x2": {"models": "wheel", "threads": 2, "workers": 1},
    "wheel-2x1": {"models": "wheel", "threads": 1, "workers": 2},
    "opt-1x2": {"models": "optimized", "threads": 2, "workers": 1},
    "opt-2x1": {"models": "optimized", "threads": 1, "workers": 2},
    "opt-1x1": {"models": "optimized", "threads": 1, "workers": 1},
    "opt-2x1-batch1": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1},
    "opt-2x1-batch12": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 12},
    "opt-2x1-batch24": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 24},
    "opt-2x1-arena": {"models": "optimized", "threads": 1, "workers": 2, "mem_arena": True},
    "opt-2x1-graph-basic": {"models": "optimized", "threads": 1, "workers": 2, "graph_opt": "basic"},
    "opt-2x1-graph-extended": {"models": "optimized", "threads": 1, "workers": 2, "graph_opt": "extended"},
    "opt-1x2-parallel-exec": {"models": "optimized", "threads": 2, "workers": 1, "parallel_exec": True},
    "opt-1x2-nospin": {"models": "optimized", "threads": 2, "workers": 1, "spin": False},
    "opt-2x1-minwidth0": {"models": "optimized", "threads": 1, "workers": 2, "rec_min_width": 0},
    "opt-2x1-batch1-minwidth0": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1, "rec_min_width": 0},
    "opt-1x2-batch1": {"models": "optimized", "threads": 2, "workers": 1, "rec_batch": 1},
    "opt-1x2-batch1-minwidth0": {"models": "optimized", "threads": 2, "workers": 1, "rec_batch": 1, "rec_min_width": 0},
    "opt-1x1-batch1": {"models": "optimized", "threads": 1, "workers": 1, "rec_batch": 1},
    "opt-2x1-batch2": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 2},
    "opt-2x1-batch1-arena": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1, "mem_arena": True},
    "opt-2x1-batch1-det1600": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1, "det_side": 1600},
    "opt-2x1-batch1-det1280": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1, "det_side": 1280},
    "wheel-2x1-batch1": {"models": "wheel", "threads": 1, "workers": 2, "rec_batch": 1},
    "opt-2x1-det1600": {"models": "optimized", "threads": 1, "workers": 2, "det_side": 1600},
    "opt-2x1-det1280": {"models": "optimized", "threads": 1, "workers": 2, "det_side": 1280},
    # dynamic int8 quantisation (onnxruntime.quantization) of the wheel's recognition model:
    # every Conv and MatMul, or the MatMuls only (in one process: the session is swapped in)
    "int8-rec-conv+matmul-1x2": {"models": "wheel", "threads": 2, "workers": 1, "int8_rec": ["Conv", "MatMul"]},
    "int8-rec-matmul-1x2": {"models": "wheel", "threads": 2, "workers": 1, "int8_rec": ["MatMul"]},
    # …of the rewritten recognition model, in a model directory of its own that the worker
    # processes load (the default's processes, threads and batch)
    "int8opt-matmul-2x1-batch1": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1,
                                  "int8_opt": ["MatMul"]},
    "int8opt-conv+matmul-2x1-batch1": {"models": "optimized", "threads": 1, "workers": 2, "rec_batch": 1,
                                       "int8_opt": ["Conv", "MatMul"]},
}


def _int8_rec(ops: list[str], out: Path) -> Path:
    """The wheel's recognition model with dynamic int8 weights for `ops` (needs the onnx package)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.ingest import ocrmodels

    out.mkdir(parents=True, exist_ok=True)
    dst = out / f"rec-int8-{'-'.join(ops).lower()}.onnx"
    if not dst.exists():
        model = onnx.load(str(ocrmodels.wheel_models() / ocrmodels.REC))
        ocrmodels._constants_to_initializers(model)  # quantize_dynamic wants weights as initializers
        onnx.save(model, str(out / "rec-fp32-init.onnx"))
        quantize_dynamic(str(out / "rec-fp32-init.onnx"), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    return dst


def _int8_opt_dir(ops: list[str], out: Path) -> Path:
    """A model directory with the rewritten detection model and the rewritten recognition
    model with dynamic int8 weights for `ops` (built from `ocr-models`' output)."""
    import shutil

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.ingest import ocrmodels

    src = Path(Settings().ocr_model_dir)
    if not ocrmodels.is_built(src):
        raise SystemExit("run `brand-assistant ocr-models` first")
    det, rec = ocrmodels.built_paths(src)
    dst = out / f"int8opt-{'-'.join(ops).lower()}"
    dst.mkdir(parents=True, exist_ok=True)
    ddet, drec = ocrmodels.built_paths(dst)
    if not drec.exists():
        shutil.copy(det, ddet)
        shutil.copy(src / "manifest.json", dst / "manifest.json")
        model = onnx.load(str(rec))
        ocrmodels._constants_to_initializers(model)
        onnx.save(model, str(dst / "rec-fp32-init.onnx"))
        quantize_dynamic(str(dst / "rec-fp32-init.onnx"), str(drec), weight_type=QuantType.QInt8,
                         op_types_to_quantize=ops)
    return dst


def _ocr_pages(pages: int, out: Path):
    """T/GXAS 1220's body pages 5…: the text PDF, its 200 dpi scan, the reference text and labels."""
    import pymupdf

    import roundtrip
    from assistant.corpus.manifest import load_manifest
    from assistant.ingest.pdf import extract_pdf
    from assistant.ingest.serialize import serialize

    out.mkdir(parents=True, exist_ok=True)
    spec = next(s for s in load_manifest(CORPUS) if s.doc_id == "gxas-1220-2026")
    pdf = out / "gxas-1220-2026.pdf"
    if not pdf.exists():
        pdf = roundtrip.to_pdf(roundtrip.render_docx(spec, (CORPUS / spec.file).read_text(encoding="utf-8"),
                                                     out / "gxas-1220-2026.docx"), out)
    src = pymupdf.open(str(pdf))
    part = pymupdf.open()
    part.insert_pdf(src, from_page=4, to_page=4 + pages - 1)
    part.save(str(out / f"part{pages}.pdf"))
    scan = roundtrip.scan(out / f"part{pages}.pdf", out / f"part{pages}-scan.pdf")
    ref_text = serialize(extract_pdf(out / f"part{pages}.pdf"), True)
    labels = re.findall(r"\d+\.\d+(?:\.\d+)*|[a-z]\)", ref_text)
    return scan, ref_text, labels


def _ocr_score(ex, ref_text: str, labels: list[str]) -> dict:
    import roundtrip
    from assistant.corpus.parse import compact
    from assistant.ingest.serialize import serialize

    got_text = serialize(ex, True)
    ref, got = compact(ref_text), compact(got_text)
    return {"char_accuracy_pct": round(100 * (1 - roundtrip._edit_distance(ref, got) / len(ref)), 2),
            "char_accuracy_folded_pct": round(100 * (1 - roundtrip._edit_distance(roundtrip._fold(ref), roundtrip._fold(got))
                                                     / len(ref)), 2),
            "labels_found_pct": round(100 * sum(lab in got_text for lab in labels) / max(len(labels), 1), 1)}


def _busy_jiffies() -> int:
    """CPU time used on the machine so far (all processes), in clock ticks."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in f[:8])
    return user + nice + system + irq + softirq + steal


def _others_share(seconds: float) -> float:
    """Share (0-1) of the machine's CPUs that processes other than this one used over `seconds`."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")
    b0 = _busy_jiffies()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(seconds)
    b1 = _busy_jiffies()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    mine = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * tick
    return max(0.0, (b1 - b0 - mine) / (seconds * tick * (os.cpu_count() or 1)))


def wait_quiet(max_share: float = 0.03, sample: float = 10.0, log=print) -> float:
    """Block until, over `sample` seconds, other processes used less than `max_share` of the CPUs."""
    while True:
        share = _others_share(sample)
        if share < max_share:
            return share
        log(f"# machine busy ({100 * share:.0f} % of the CPUs used by other processes); waiting")


def ocr_speed(pages: int, names: list[str], out: Path, repeat: int = 1, quiet: bool = False) -> list[dict]:
    """Seconds per page of each OCR configuration (OCR_CONFIGS) on `pages` scanned body pages of
    T/GXAS 1220, wall clock from the first page image to the last page's layout (model
    loading and worker start-up included), with the accuracy against the text layer.
    `others_cpu_pct`: the share of the machine's CPUs other processes used during the run
    (from /proc/stat), and the load average before and after. With `quiet`, each run waits
    for a quiet machine and is repeated (up to 5 times) while others used more than 5 %."""
    import resource

    from assistant.ingest.ocr import OcrOptions, RapidOcrEngine
    from assistant.ingest.pdf import extract_pdf

    os.environ.pop("BA_OCR_CACHE_DIR", None)  # read every page, every time
    scan, ref_text, labels = _ocr_pages(pages, out)
    rows = []
    for name in names:
        done, tries = 0, 0
        while done < repeat and tries < 5 * repeat:
            tries += 1
            if quiet:
                wait_quiet()
            busy0 = _busy_jiffies()
            conf = dict(OCR_CONFIGS[name])
            int8 = conf.pop("int8_rec", None)
            int8_opt = conf.pop("int8_opt", None)
            if int8_opt:
                conf["model_dir"] = str(_int8_opt_dir(int8_opt, out / "int8"))
            opts = OcrOptions(**{"model_dir": str(Settings().ocr_model_dir), **conf})
            load0 = os.getloadavg()[0]
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            engine = RapidOcrEngine(options=opts)
            if int8:
                from assistant.ingest.ocr import _session

                engine._load()
                engine._rec = _session(_int8_rec(int8, out / "int8"), opts)
            ex = extract_pdf(scan, engine)
            secs = time.perf_counter() - t
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime +
                   rc1.ru_utime + rc1.ru_stime - rc0.ru_utime - rc0.ru_stime)
            tick = os.sysconf("SC_CLK_TCK")
            others = max(0.0, (_busy_jiffies() - busy0) / tick - cpu) / (secs * (os.cpu_count() or 1))
            row = {"config": name, "pages": pages, "s_per_page": round(secs / pages, 2),
                   "cpu_s_per_page": round(cpu / pages, 2), **_ocr_score(ex, ref_text, labels),
                   "others_cpu_pct": round(100 * others, 1),
                   "load_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)]}
            if opts.workers == 1:
                row.update({f"{k}_s_per_page": round(v / pages, 2) for k, v in engine.timings.items()})
            print(json.dumps(row, ensure_ascii=False), flush=True)
            if quiet and others > 0.05:
                continue  # another process took CPU during the run: measure again
            rows.append(row)
            done += 1
    return rows


def pdfplumber_extract(path: Path):
    """The same extraction as assistant/ingest/pdf.py with pdfplumber as the library: its words
    (with font size) as spans, its edges as the rules; everything after that is shared."""
    import pdfplumber

    from assistant.ingest.layout import Extraction, VLine
    from assistant.ingest.pdf import build_page, drop_running_lines

    ex = Extraction(format="pdf")
    with pdfplumber.open(str(path)) as pdf:
        for i, page in enumerate(pdf.pages):
            words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=True, x_tolerance=1.5,
                                       use_text_flow=False)
            spans = [VLine(w["text"], w["x0"], w["top"], w["x1"], w["bottom"], size=round(w["size"], 1),
                           bold="Bold" in w["fontname"]) for w in words if w["text"].strip()]
            h = [(e["x0"], e["top"], e["x1"], e["top"]) for e in page.edges if e["orientation"] == "h"]
            v = [(e["x0"], e["top"], e["x0"], e["bottom"]) for e in page.edges if e["orientation"] == "v"]
            ex.pages.append(build_page(i + 1, float(page.width), float(page.height), spans, h, v))
    drop_running_lines(ex.pages)
    return ex


def pdflib(out: Path) -> list[dict]:
    """PyMuPDF against pdfplumber on the five rendered text PDFs: the round-trip scores, the
    time, and Kangxi-radical code points (⽬ U+2F6C for 目) in the extracted text."""
    import roundtrip
    from assistant.corpus.manifest import load_manifest
    from assistant.corpus.parse import parse_document
    from assistant.ingest.pdf import extract_pdf
    from assistant.ingest.serialize import serialize

    made = roundtrip.build_inputs(out, formats=("docx", "pdf"))
    specs = {s.doc_id: s for s in load_manifest(CORPUS)}
    rows = []
    for doc_id, paths in made.items():
        spec = specs[doc_id]
        ref = roundtrip.reference_units(spec)
        for lib, fn in (("pymupdf", lambda p: extract_pdf(p)), ("pdfplumber", pdfplumber_extract)):
            t = time.perf_counter()
            ex = fn(paths["pdf"])
            secs = time.perf_counter() - t
            text = serialize(ex, spec.is_standard)
            got = [{"label": u.label, "title": u.title, "text": u.text} for u in parse_document(spec, text).units]
            cmp = roundtrip.compare(ref, got)
            kangxi = sum(1 for c in text if 0x2E80 <= ord(c) <= 0x2FDF)
            rows.append({"doc_id": doc_id, "library": lib, "extract_s": round(secs, 2),
                         "identical_pct": cmp["identical_pct"], "char_accuracy_pct": cmp["char_accuracy_pct"],
                         "kangxi_radicals": kangxi})
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["speed", "ocr", "ocr-speed", "growth", "embed-rate", "pdflib"])
    ap.add_argument("--configs", default="wheel-1x2,wheel-2x1,opt-1x2,opt-2x1",
                    help="ocr-speed: comma-separated names of OCR_CONFIGS, or 'all'")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--wait-quiet", action="store_true",
                    help="ocr-speed: wait for a quiet machine before each run, measure again when others took CPU")
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--pages", type=int, default=4)
    ap.add_argument("--engine", default="rapidocr")
    ap.add_argument("--wait-vectors", action="store_true", help="speed: embed inside the add (no deferral)")
    ap.add_argument("--out", default=str(ROOT / "test-artifacts" / "bench-ingest"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.what == "growth":
        rows = growth([int(x) for x in args.scales.split(",")])
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif args.what == "speed":
        print(json.dumps(speed(out, args.wait_vectors), ensure_ascii=False))
    elif args.what == "pdflib":
        pdflib(out / "pdflib")
    elif args.what == "ocr-speed":
        names = list(OCR_CONFIGS) if args.configs == "all" else args.configs.split(",")
        ocr_speed(args.pages, names, out, args.repeat, args.wait_quiet)
    elif args.what == "ocr":
        print(json.dumps(ocr(args.pages, args.engine, out), ensure_ascii=False))
    else:
        print(json.dumps({"e5_passages_per_s": round(embed_rate(), 1), "load": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
