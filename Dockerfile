# syntax=docker/dockerfile:1.7
# The Crossforce gateway image: the web UI built by npm in its own stage, the Python package
# installed into a virtual environment in another, and only that environment copied into a
# slim runtime that runs as an unprivileged user. Build from the repository root:
#   docker build -t crossforce/gateway:0.1.0 .

# Base images pinned by digest (each tag's multi-platform index, as the official images' own
# record, docker-library/repo-info, lists it): a rebuild gets the same bases until these change.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:48e4b67d85f87bd551df43704e24d252f56cc5f8e9718841aace50f19948f0f9

# --- Web UI: `npm ci && npm run build` in web/, which writes its assets to gateway/static/ ----
FROM ${NODE_IMAGE} AS web
WORKDIR /src
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund
COPY web/ web/
RUN cd web && npm run build

# --- Python: the hub, its SDK (sdk/) and their dependencies (wheels) in /opt/crossforce ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/crossforce
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway/ gateway/
COPY graph/ graph/
COPY federation/ federation/
COPY policies/ policies/
COPY sdk/ sdk/
COPY --from=web /src/gateway/static/ gateway/static/
RUN /opt/crossforce/bin/pip install --no-compile ./sdk . \
    && /opt/crossforce/bin/python -m compileall -q /opt/crossforce/lib \
    && /opt/crossforce/bin/pip uninstall --yes pip setuptools wheel

# --- Runtime: no compiler, no npm, no pip; a non-root user; the hub and nothing else -------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="crossforce-gateway" \
      org.opencontainers.image.description="Crossforce regional hub gateway"
RUN groupadd --system --gid 10001 crossforce \
    && useradd --system --uid 10001 --gid crossforce --no-create-home \
       --home-dir /var/lib/crossforce --shell /usr/sbin/nologin crossforce \
    && install -d -o crossforce -g crossforce -m 0700 /var/lib/crossforce
COPY --from=build /opt/crossforce /opt/crossforce
ENV PATH=/opt/crossforce/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CROSSFORCE_DATA_DIR=/var/lib/crossforce \
    CROSSFORCE_LOG_FORMAT=json
WORKDIR /var/lib/crossforce
USER 10001:10001
EXPOSE 8000
# uvicorn drains in-flight requests on SIGTERM (CROSSFORCE_GRACEFUL_SHUTDOWN_SECONDS).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["crossforce"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
