#!/usr/bin/env bash
# Create .venv and install the server, the client and the given extras into it.
# Re-installs only when pyproject.toml or client/pyproject.toml change.
#   scripts/bootstrap.sh [EXTRAS]      e.g. scripts/bootstrap.sh dev,embedded
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-embedded}
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: Python 3.11 or newer is needed (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml client/pyproject.toml | sha256sum | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing inventory-server[$extras] and inventory-client into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ./client -e ".[$extras]"
  touch "$stamp"
fi
