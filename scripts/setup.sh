#!/usr/bin/env bash
# Sets up everything latentdash needs, idempotently: Debian packages (when root and missing),
# the virtual environment in .venv, and the project with its extras. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: $*"
    if [ ! -f /tmp/.latentdash-apt-updated ]; then apt-get update -qq && touch /tmp/.latentdash-apt-updated; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "setup: warning: missing $* (install them with apt-get as root); related tests will be skipped" >&2
  fi
}

PY=${PYTHON:-python3}
if ! "$PY" -c "import ensurepip, venv" 2>/dev/null; then apt_install python3-venv; fi
if [ "${LATENTDASH_SKIP_APT:-0}" != 1 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.latentdash-setup
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing latentdash and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,serve]"
  echo "$want" > "$stamp"
fi
