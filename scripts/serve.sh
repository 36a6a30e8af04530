#!/usr/bin/env bash
# Run the service. With no DATABASE_URL it starts an embedded PostgreSQL in
# ./.inventory-data, applies the migrations and serves on port 50051.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh embedded
exec .venv/bin/inventory-server serve "$@"
