#!/usr/bin/env bash
# One command: install what is missing, build the index from corpus/ if absent, start the assistant.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
extras="${SSTC_EXTRAS:-dev}"
if [ "${SSTC_GENERATOR:-extractive}" = "llamacpp" ] || [ "${SSTC_GENERATOR:-}" = "openai" ]; then
  extras="$extras,llm"
elif [ -t 0 ] && [ -z "${SSTC_EXTRAS:-}" ] && ! grep -q llm .venv/.sstc-installed 2>/dev/null; then
  read -r -p "Also install the local language model (1.1 GB; answers phrased by Qwen2.5-1.5B with SSTC_GENERATOR=llamacpp)? [y/N] " yn || yn=n
  case "$yn" in [yY]*) extras="$extras,llm" ;; esac
fi
SSTC_EXTRAS="$extras" bash scripts/bootstrap.sh
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
INDEX="${SSTC_INDEX:-default}"
if [ ! -f "indexes/$INDEX/catalog.sqlite" ]; then
  [ -n "$(find corpus -type f ! -name '.*' ! -name catalog.json ! -name '*.md' 2>/dev/null | head -n 1)" ] \
    || { echo "error: corpus/ has no documents: add PDFs or texts there" >&2; exit 1; }
  .venv/bin/sstc ingest --index "$INDEX"
fi
exec .venv/bin/sstc serve --index "$INDEX" "$@"
