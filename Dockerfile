# skillbot as a container: the HTTP-mode bot with its scheduler (`skillbot run`).
#
#   docker build -t skillbot .
#   docker run --env-file .env -p 3000:3000 \
#     -v "$PWD/skillbot.toml:/etc/skillbot/skillbot.toml:ro" skillbot
#
# SQLite (the default DATABASE_URL) lives in the working directory /var/lib/skillbot:
# mount a volume there to keep it, or set DATABASE_URL to PostgreSQL (compose.yaml).
# a fixed patch release of the base image, not a moving tag (pin its digest as well
# where builds must be bit-for-bit: `FROM python:3.12.8-slim-bookworm@sha256:…`)
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# the dependencies first, at the versions of requirements.lock: a change to the code
# reuses this layer instead of installing every dependency again
COPY requirements.lock ./
RUN pip install --no-cache-dir --requirement requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
# the project alone, built with the pinned setuptools already installed
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# the bot never needs root; a numeric user lets orchestrators verify runAsNonRoot
RUN groupadd --system --gid 10001 skillbot \
 && useradd --system --uid 10001 --gid skillbot --no-create-home \
      --home-dir /var/lib/skillbot --shell /usr/sbin/nologin skillbot \
 && install -d -o skillbot -g skillbot /var/lib/skillbot /etc/skillbot
WORKDIR /var/lib/skillbot
USER 10001:10001

# matplotlib (the health charts) keeps its font cache where the bot may write
ENV PORT=3000 \
    SKILLBOT_CONFIG=/etc/skillbot/skillbot.toml \
    MPLCONFIGDIR=/var/lib/skillbot/.matplotlib
EXPOSE 3000

# 200 once the bot is ready (HTTP mode; in Socket Mode there is no port: disable it there)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# exec form: the bot is PID 1 and gets `docker stop`'s SIGTERM itself (it exits 0)
CMD ["skillbot", "run"]
