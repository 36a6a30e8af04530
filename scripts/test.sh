#!/usr/bin/env bash
# Run every check and every test: lint, types, layer rules (import-linter), contract
# (buf lint, breaking, stale codegen), Dockerfile lint, the query builder's doctests,
# then pytest (unit, integration, e2e).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -k etag
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,embedded

step() { printf '\n== %s\n' "$*"; }

# PgBouncer (Debian package) for tests/e2e/test_pgbouncer.py; the tests start their own instance.
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; } >/dev/null 2>&1 \
    || echo "could not install pgbouncer: tests/e2e/test_pgbouncer.py will fail" >&2
fi

# h2load (Debian package nghttp2-client) for tests/e2e/test_bench.py, which runs bench/run.py --quick.
if ! command -v h2load >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client; } >/dev/null 2>&1 \
    || echo "could not install nghttp2-client: tests/e2e/test_bench.py will fail" >&2
fi

# PostgreSQL for the integration tests: the local server if it answers, else
# start the machine's cluster, else the tests start an embedded one themselves.
if [ -z "${TEST_DATABASE_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
    [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || echo "PostgreSQL on 127.0.0.1:5432 is not reachable: tests use an embedded one"
fi

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy"
.venv/bin/mypy server client/inventory_client tests scripts bench
step "layer rules (import-linter)"
.venv/bin/lint-imports
step "generated code is current"
.venv/bin/python scripts/codegen.py --check
if command -v npm >/dev/null 2>&1; then
  step "buf lint and breaking-change check"
  [ -x node_modules/.bin/buf ] || npm ci --no-audit --no-fund --silent
  node_modules/.bin/buf lint
  node_modules/.bin/buf breaking --against protos/baseline/inventory-v1.binpb
else
  echo "npm not found: install Node.js to run buf lint" >&2
  exit 1
fi
if [ -f Dockerfile ]; then
  step "hadolint"
  .venv/bin/hadolint Dockerfile
fi

step "doctests: the query builder's and list translator's examples, run as written"
# Plain --doctest-modules, no injected names: an example that does not run on its own fails here.
.venv/bin/python -m pytest -p no:cacheprovider -q --doctest-modules \
  server/inventory_server/db/query server/inventory_server/db/listing

step "pytest"
rc=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
