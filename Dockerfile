# streamlake serve: the HTTP ingestion API. Multi-stage: wheels are built in a
# throwaway stage, the runtime image holds only the installed package, the
# catalog and a non-root user. tests/unit/test_http_packaging.py checks this
# file against the CLI (entry point, port, flags) since Docker cannot run here.
#   docker build -t streamlake . && docker compose up serve
FROM python:3.11-slim AS build
# The Avro codec is Rust (maturin): the toolchain lives in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential curl ca-certificates \
    && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY codec ./codec
COPY streamlake ./streamlake
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin streamlake
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY avro ./avro
ENV STREAMLAKE_SCHEMAS_DIR=/app/avro \
    STREAMLAKE_HTTP_HOST=0.0.0.0 \
    STREAMLAKE_HTTP_PORT=8080 \
    STREAMLAKE_HTTP_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/livez', timeout=2)"]
# Binding 0.0.0.0 needs API keys (--config with [[api_keys]]) or --insecure.
ENTRYPOINT ["streamlake", "serve"]
CMD ["--config", "/etc/streamlake/streamlake.toml"]
