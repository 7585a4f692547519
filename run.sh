#!/usr/bin/env bash
# PruneSeg set-up and entry points. Creates .venv from requirements.txt when needed.
#   ./run.sh dashboard   make the built-in dataset on first use, serve the dashboard on 127.0.0.1:8501
#                        (PORT=8600 ./run.sh dashboard for another port)
#     --viewer             read-only: nothing starts, cancels or uploads; no error details, no developer
#                          toolbar (also PRUNESEG_VIEWER=1)
#     --host ADDRESS       bind to ADDRESS instead of 127.0.0.1 (0.0.0.0: every interface)
#     --allow-remote-jobs  with --host beyond loopback and without --viewer: let visitors run jobs
#     XSRF and CORS protection stay on in every mode.
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

is_on() {  # as pruneseg.dashboard.access.viewer_mode: anything but empty, 0, false, no or off
  case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')" in
    ""|0|false|no|off) return 1 ;;
    *) return 0 ;;
  esac
}

is_loopback() {
  case "$1" in
    127.*|localhost|::1|"[::1]") return 0 ;;
    *) return 1 ;;
  esac
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
    shift
    HOST=127.0.0.1 VIEWER=0 ALLOW_REMOTE_JOBS=0
    if is_on "${PRUNESEG_VIEWER:-}"; then VIEWER=1; fi
    while [ $# -gt 0 ]; do  # every flag is checked here, before anything slow is set up
      case "$1" in
        --viewer) VIEWER=1 ;;
        --host) if [ $# -lt 2 ]; then echo "--host needs an address, such as 0.0.0.0" >&2; exit 2; fi
                HOST="$2"; shift ;;
        --host=*) HOST="${1#--host=}" ;;
        --allow-remote-jobs) ALLOW_REMOTE_JOBS=1 ;;
        *) echo "unknown flag for ./run.sh dashboard: $1 (--viewer, --host ADDRESS, --allow-remote-jobs)" >&2
           exit 2 ;;
      esac
      shift
    done
    if [ "$VIEWER" = 0 ] && ! is_loopback "$HOST"; then
      WHY="anyone who reaches $HOST:${PORT:-8501} could start any job, fill the disk, browse any folder of this
server through the Dataset page, and run Python on it: the Train page imports a model file from any path
typed into it (a model file is Python that runs)."
      if [ "$ALLOW_REMOTE_JOBS" = 0 ]; then
        printf '%s\n' "refusing to serve the dashboard on $HOST without --viewer: $WHY" \
          "Share it read-only with --viewer (and sign-in, README: Share the dashboard safely), or add" \
          "--allow-remote-jobs if every visitor may do all that." >&2
        exit 2
      fi
      printf '%s\n' "== warning: serving the dashboard on $HOST with jobs allowed (--allow-remote-jobs): $WHY" >&2
    fi
    ensure_venv
    export PRUNESEG_WORKSPACE="${PRUNESEG_WORKSPACE:-$PWD/workspace}"
    FLAGS=(--server.address "$HOST" --server.port "${PORT:-8501}" --server.headless true
           --browser.gatherUsageStats false --server.fileWatcherType none
           --server.enableXsrfProtection true --server.enableCORS true)
    if [ "$VIEWER" = 1 ]; then  # shows the workspace as it is: nothing is made for the visitor
      export PRUNESEG_VIEWER=1
      FLAGS+=(--client.showErrorDetails none --client.toolbarMode viewer)
    elif [ ! -f "$PRUNESEG_WORKSPACE/datasets/synthcity/synthcity.json" ]; then
      echo "== generating the built-in synthcity dataset (under a minute)"
      "$PY" -m pruneseg synth --out "$PRUNESEG_WORKSPACE/datasets/synthcity"
    fi
    exec "$PY" -m streamlit run app.py "${FLAGS[@]}"
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
    echo "usage: ./run.sh dashboard [--viewer] [--host ADDRESS] [--allow-remote-jobs] | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
