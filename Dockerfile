# syntax=docker/dockerfile:1
#
# cnst-radar: the `crawl` command in a container. By default it runs the daemon (`crawl daemon`);
# any other sub-command works too: `docker run --rm IMAGE check`, `... IMAGE db upgrade`.
#
#   docker build -t cnst-radar .
#
# Reproducible: the base image is pinned to a patch release, every Python package comes from
# requirements.lock (== pins, build backend included), the project itself is installed with
# --no-deps, and `pip check` fails the build if the lock misses anything.
# See README.md, "Deployment", and docker-compose.yml for how it is run.

# -- build: a virtual environment in /opt/venv, copied whole into the runtime image ----------
FROM python:3.11.14-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --no-deps -c requirements.lock setuptools \
    && pip install --no-build-isolation -r requirements.lock

COPY pyproject.toml README.md ./
COPY common/ common/
COPY storage/ storage/
COPY desk/ desk/
COPY crawler/ crawler/
COPY scheduler/ scheduler/
COPY radar/ radar/
COPY watchlists/ watchlists/
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && python -m compileall -q /opt/venv/lib

# -- runtime ---------------------------------------------------------------------------------
FROM python:3.11.14-slim-bookworm

LABEL org.opencontainers.image.title="cnst-radar" \
      org.opencontainers.image.description="Monitor of Chinese S&T policy sources for the weekly report" \
      org.opencontainers.image.licenses="UNLICENSED"

# The watchlists live in /app/watchlists (docker-compose.yml mounts the host's ./watchlists
# there; the copy below is what an image run without the mount uses). /data holds what is not
# in PostgreSQL: the demo database, exports, and the SQLite file when no RADAR_DATABASE_URL is
# set. The status endpoint listens on every interface inside the container; publishing the
# port (127.0.0.1 only, in docker-compose.yml) decides who can reach it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RADAR_WATCHLISTS=/app/watchlists \
    RADAR_DATA_DIR=/data \
    RADAR_STATUS_ADDR=0.0.0.0:9180

RUN groupadd --system --gid 10001 radar \
    && useradd --system --uid 10001 --gid radar --home-dir /home/radar --create-home \
       --shell /usr/sbin/nologin radar \
    && install -d -o radar -g radar -m 0750 /data

COPY --from=build /opt/venv /opt/venv
COPY watchlists/ /app/watchlists/

WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 9180

# Healthy while the daemon's heartbeat (written every 30 s) is younger than two minutes.
HEALTHCHECK --interval=60s --timeout=30s --start-period=90s --retries=3 \
    CMD ["crawl", "status", "--check"]

ENTRYPOINT ["crawl"]
CMD ["daemon"]
