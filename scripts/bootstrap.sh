#!/usr/bin/env bash
# Shared by run.sh and test.sh: make .venv/ with the package installed, or say in one line why not.
# Idempotent: a second run only checks a stamp.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${SSTC_EXTRAS:-dev}"

die() { echo "error: $*" >&2; exit 1; }

find_python() {
  for cand in "${SSTC_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || continue
    if "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

project_hash() { sha256sum "$ROOT/pyproject.toml" | cut -c1-16; }

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(find_python)" || die "Python 3.11 or newer is needed (set SSTC_PYTHON=/path/to/python3.11)"
  free_kb=$(df -Pk "$ROOT" | awk 'NR==2 {print $4}')
  [ "${free_kb:-0}" -gt 3500000 ] || die "about 3.5 GB of free disk is needed for .venv/ (have $((free_kb / 1024)) MB)"
  echo "Creating .venv/ with $("$PY" --version) …" >&2
  "$PY" -m venv "$VENV" || die "could not create the virtual environment in $VENV"
fi

# .sstc-installed holds the pyproject hash and the extras installed with it
stamp="$VENV/.sstc-installed"
have_hash="$(sed -n 1p "$stamp" 2>/dev/null || true)"
have_extras="$(sed -n 2p "$stamp" 2>/dev/null || true)"
if [ "$have_hash" = "$(project_hash)" ]; then
  missing=""
  for extra in ${EXTRAS//,/ }; do
    case ",$have_extras," in *",$extra,"*) ;; *) missing="$missing $extra" ;; esac
  done
  [ -z "$missing" ] && exit 0
fi
wanted="$have_extras,$EXTRAS"  # extras installed before stay installed and up to date
wanted="$(echo "$wanted" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
echo "Installing sstc-assistant[$wanted] into .venv/ (about 2 GB, a few minutes the first time) …" >&2
log="$VENV/install.log"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e "$ROOT[$wanted]" >"$log" 2>&1; then
  grep -iE "error|no space" "$log" | tail -n 3 >&2 || true
  die "installing dependencies failed (full log: $log)"
fi
printf '%s\n%s\n' "$(project_hash)" "$wanted" > "$stamp"
