#!/usr/bin/env bash
# Idempotent set-up: a venv in .venv with CPU torch first, then this package.
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  # torch first, pinned: plain `torch` would pull a multi-GB CUDA build.
  quiet() { { grep -v "is ignored: it is neither" || true; } >&2; }
  .venv/bin/python -m pip install -q torch==2.13.0 2>&1 | quiet
  .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | quiet
  rm -f .venv/.installed-* && touch "$stamp"
fi

# The real-browser UI test drives Debian's Chromium; CJK fonts make its screenshot legible.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q chromium chromium-driver fonts-noto-cjk >/dev/null 2>&1 ||
     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver fonts-noto-cjk >/dev/null 2>&1)) ||
      echo "setup: chromium could not be installed; the real-browser UI test will be skipped" >&2
  else
    echo "setup: chromium/chromedriver missing (needs apt as root); the real-browser UI test will be skipped" >&2
  fi
fi

# Report drafts (assistant/reports): LibreOffice and poppler render the DOCX to PDF/PNG in a test,
# and free CJK fonts stand in for the fonts a draft names (仿宋/小标宋 -> Noto Serif CJK,
# 黑体 -> Noto Sans CJK, 楷体 -> LXGW WenKai; Times New Roman -> Liberation Serif).
# The UI's icons (💬 📖 📝 🛠 👍 👎) need a colour emoji font, or browsers draw empty boxes.
report_pkgs="libreoffice-writer-nogui poppler-utils fonts-noto-cjk fonts-lxgw-wenkai fonts-liberation fonts-dejavu-core fonts-noto-color-emoji"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=$(for p in $report_pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s ' "$p"
  done)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      # shellcheck disable=SC2086
      (DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
       (apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1)) ||
        echo "setup: could not install $missing; the report rendering test will be skipped (and emoji may show as boxes)" >&2
    else
      echo "setup: missing $missing (needs apt as root); the report rendering test will be skipped (and emoji may show as boxes)" >&2
    fi
  fi
fi
# The font substitution for LibreOffice, machine-wide (the renderer also applies it itself).
if [ "$(id -u)" = "0" ] && [ -d /etc/fonts/conf.d ]; then
  .venv/bin/python -m assistant.reports.render --fontconfig /etc/fonts/conf.d/65-brand-assistant-gongwen.conf >/dev/null
fi

# The OCR models rewritten for speed (same arithmetic, fewer operators; assistant/ingest/ocrmodels.py):
# built once from the models inside the rapidocr wheel, nothing downloaded.
if ! .venv/bin/brand-assistant ocr-models --check >/dev/null 2>&1; then
  .venv/bin/brand-assistant ocr-models >/dev/null ||
    echo "setup: the OCR models could not be rewritten; OCR uses the wheel's models (same results, slower)" >&2
fi

# OCR comparison (benchmarks/bench_ingest.py ocr --engine tesseract): Debian's tesseract with the
# simplified-Chinese model. Not the default engine (RapidOCR ships in the wheel); optional.
if ! command -v tesseract >/dev/null 2>&1 && [ "${BA_SETUP_TESSERACT:-1}" = "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim >/dev/null 2>&1 ||
     (apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim >/dev/null 2>&1)) ||
      echo "setup: tesseract could not be installed; only the OCR comparison benchmark needs it" >&2
  fi
fi

# The API load benchmark (benchmarks/bench_api.py) drives the server with wrk: a Python
# load generator on the same 2 cores would steal the server's CPU.
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q wrk >/dev/null 2>&1 ||
     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1)) ||
      echo "setup: wrk could not be installed; bench_api.py falls back to its slower httpx generator" >&2
  else
    echo "setup: wrk missing (needs apt as root); bench_api.py falls back to its slower httpx generator" >&2
  fi
fi
