# casewatch: the Discord bot in a container, as a non-root user, database on a volume (and the
# cache folder: the sentence model's prepared copy is written once, not at every start).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASEWATCH_DB=/data/casewatch.db \
    CASEWATCH_CONFIG=/app/feeds.yaml \
    XDG_CACHE_HOME=/data/cache

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt

COPY bot.py feeds.yaml ./
COPY casewatch ./casewatch
COPY storage ./storage
COPY cogs ./cogs

RUN useradd --system --uid 10001 --home-dir /app casewatch \
    && mkdir -p /data && chown casewatch /data
USER casewatch
VOLUME ["/data"]

# Healthy when the scheduler ticked in the last five minutes.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "bot.py", "health", "--max-age", "5m"]

# DISCORD_TOKEN comes from the environment (docker run -e / --env-file), never from the image.
CMD ["python", "bot.py", "run"]
