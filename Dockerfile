# inventory-server: the gRPC service and its migration CLI in one image.
#
#   docker build -t inventory-server:0.1.0 .
#   docker run --rm -p 127.0.0.1:50051:50051 -e DATABASE_URL=postgresql://app@db:5432/inventory \
#       -e INVENTORY_HOST='[::]' -e INVENTORY_ALLOW_INSECURE_LISTEN=true inventory-server:0.1.0
#   (development: without TLS and a policy the server otherwise listens on loopback only)
#   docker run --rm -e DATABASE_URL=... --entrypoint inventory-migrate inventory-server:0.1.0 migrate --wait-for-db 60
#
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" \
#       --build-arg SOURCE=https://git.example.com/inventory -t inventory-server:0.1.0 .
#
# DATABASE_URL is required at run time: the embedded PostgreSQL (extra "embedded")
# is for local development and is not installed here. No secret is ever baked in.
# HEALTHCHECK is for Docker, Compose, ECS and Nomad; Kubernetes ignores it and
# probes gRPC health natively (see deploy/deployment.yaml and docs/deployment.md).

# Both stages use the same interpreter, so the virtualenv built in the first one
# runs unchanged in the second. Bump the patch version deliberately.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: wheels of ./client and ., installed into /opt/venv -------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# Only what the wheels are built from (.dockerignore keeps caches and build leftovers out).
# setup.py copies migrations/ into the server wheel as package data.
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY client/ client/
COPY server/ server/
COPY migrations/ migrations/

# The server with its "otlp" extra: OTEL_EXPORTER_OTLP_ENDPOINT alone turns tracing on.
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ./client . \
    && python -m venv /opt/venv \
    && server_wheel="$(find /wheels -name 'inventory_server-*.whl')" \
    && /opt/venv/bin/pip install --no-cache-dir /wheels/inventory_client-*.whl "${server_wheel}[otlp]"

# --- runtime: the virtualenv and the migrations, run as a fixed non-root UID ------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
# Where the image was built from: the repository URL and the commit (git rev-parse HEAD).
# Pass both from CI; the defaults say plainly that they are unknown.
ARG SOURCE=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="inventory-server" \
      org.opencontainers.image.description="gRPC data-access service for inventory (inventory.v1) and its migration CLI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"

# UID/GID 10001 is what deploy/ sets as runAsUser/runAsGroup; keep them in step.
RUN groupadd --system --gid 10001 inventory \
    && useradd --system --uid 10001 --gid inventory --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin inventory

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    INVENTORY_MIGRATIONS_DIR=/app/migrations \
    INVENTORY_LOG_FORMAT=json

WORKDIR /app
# Owned by root and read-only to the service user: the code cannot be changed at run time.
COPY --from=builder /opt/venv /opt/venv
COPY migrations/ /app/migrations/

USER 10001:10001
EXPOSE 50051

# gRPC health of the whole server (service ""), which follows the database and turns
# NOT_SERVING on SIGTERM: what Compose's `depends_on: condition: service_healthy`, ECS and
# Nomad want. `inventory-server probe` takes grpc_health_probe's flags and exit codes
# (0 serving, 2 connection failure, 3 RPC failure, 4 not serving), so nothing else has to be
# installed. Plaintext on the default port: with INVENTORY_PORT changed or TLS on, override
# it (docker run --health-cmd, or `healthcheck:` in Compose; docs/deployment.md).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["inventory-server", "probe", "-addr=127.0.0.1:50051"]

# Exec form: the server is PID 1 and gets SIGTERM itself (it handles it: NOT_SERVING,
# grace period, exit 0). The migration Job overrides the entrypoint with inventory-migrate.
ENTRYPOINT ["inventory-server"]
CMD ["serve"]
