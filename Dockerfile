# The liaison bot: long polling (or a webhook behind a TLS proxy), health on :9464.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LIAISON_DATABASE=/data/liaison.db \
    LIAISON_ROSTER=/config/roster.toml \
    LIAISON_HTTP_LISTEN=0.0.0.0:9464

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin liaison \
    && mkdir -p /data /config && chown liaison:liaison /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install . && rm -rf /root/.cache

USER liaison
# the SQLite file (and its -wal/-shm) lives on a volume: a new image keeps every ticket
VOLUME ["/data"]
EXPOSE 9464

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["liaison-bot"]
CMD ["run"]
