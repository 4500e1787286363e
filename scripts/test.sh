#!/usr/bin/env bash
# One command: install what is missing and run the whole test suite (fails if no test ran).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SSTC_EXTRAS="${SSTC_EXTRAS:-dev,llm}" bash scripts/bootstrap.sh
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
.venv/bin/ruff check src tests eval bench app
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi
exit "$code"
