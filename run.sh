#!/usr/bin/env bash
# PruneSeg set-up and entry points. Creates .venv from requirements.txt when needed.
#   ./run.sh dashboard   make the built-in dataset on first use, serve the dashboard on 127.0.0.1:8501
#                        (PORT=8600 ./run.sh dashboard for another port)
#   ./run.sh test        run the whole test suite (installs Debian's chromium for the browser test)
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY=$VENV/bin/python

ensure_venv() {
  if [ ! -x "$PY" ] || ! cmp -s requirements.txt "$VENV/requirements.installed"; then
    echo "== setting up $VENV from requirements.txt (first run takes a few minutes)"
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -r requirements.txt
    cp requirements.txt "$VENV/requirements.installed"
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser test"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null \
      || echo "== could not install chromium: the browser test will be skipped"
  fi
}

case "${1:-}" in
  dashboard)
    ensure_venv
    export PRUNESEG_WORKSPACE="${PRUNESEG_WORKSPACE:-$PWD/workspace}"
    if [ ! -f "$PRUNESEG_WORKSPACE/datasets/synthcity/synthcity.json" ]; then
      echo "== generating the built-in synthcity dataset (under a minute)"
      "$PY" -m pruneseg synth --out "$PRUNESEG_WORKSPACE/datasets/synthcity"
    fi
    exec "$PY" -m streamlit run app.py --server.address 127.0.0.1 --server.port "${PORT:-8501}" \
      --server.headless true --browser.gatherUsageStats false --server.fileWatcherType none
    ;;
  test)
    ensure_venv
    ensure_chromium
    shift
    if [ $# -gt 0 ]; then exec "$PY" -m pytest -q "$@"; fi
    "$PY" -m pytest -q  # skips tests/test_openvino.py, which runs in a process of its own (tests/conftest.py)
    exec "$PY" -m pytest -q tests/test_openvino.py
    ;;
  *)
    echo "usage: ./run.sh dashboard | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
