#!/usr/bin/env bash
# The main job: build/validate the index, start the HTTP API and the Streamlit chat UI
# on the embedded default (local open mode unless BA_API_KEYS is set). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
API_PORT=${API_PORT:-8000}
UI_PORT=${UI_PORT:-8501}
export BA_OPEN_MODE=${BA_OPEN_MODE:-1}
.venv/bin/brand-assistant corpus stats
.venv/bin/brand-assistant index
.venv/bin/brand-assistant serve --host 127.0.0.1 --port "$API_PORT" --workers "${API_WORKERS:-2}" &
api=$!
trap 'kill $api 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
echo
echo "问答界面（Streamlit）：http://127.0.0.1:$UI_PORT"
echo "HTTP API 文档：        http://127.0.0.1:$API_PORT/docs"
echo
.venv/bin/brand-assistant ui --host 127.0.0.1 --port "$UI_PORT"
