# latentdash: the Explorer page in a container (CPU only), with the shipped checkpoints and atlases.
#
#   docker build -t latentdash .
#   docker run --rm -p 8050:8050 latentdash              # then open http://127.0.0.1:8050/
#   docker compose up                                    # + Redis and a Celery worker (compose.yaml)
#
# Stage 1 builds the wheel from this checkout; stage 2 installs it with scripts/install_wheel.sh,
# the same script tests/test_wheel.py runs, into /opt/latentdash. torch comes as the CPU-only build
# from https://download.pytorch.org/whl/cpu (about 200 MB; PyPI's default CUDA build is about
# 2.5 GB and needs no GPU here): change it with --build-arg TORCH_INDEX_URL=...
# The shipped checkpoints and atlases are package data inside the wheel, so the first start
# builds nothing.

# ---- stage 1: build the wheel ---------------------------------------------------------------------
FROM python:3.11-slim AS builder
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2
COPY pyproject.toml README.md ./
COPY latentdash ./latentdash
RUN python -m build --wheel --outdir /dist

# ---- stage 2: the runtime image -------------------------------------------------------------------
FROM python:3.11-slim AS runtime
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY scripts/install_wheel.sh /tmp/dist/install_wheel.sh
COPY --from=builder /dist/ /tmp/dist/
# the shipped example of a user theme (top-level assets/: the projector theme), served after ours
COPY assets /srv/latentdash/assets
RUN TORCH_INDEX_URL="$TORCH_INDEX_URL" bash /tmp/dist/install_wheel.sh /tmp/dist/latentdash-*.whl /opt/latentdash \
    && rm -rf /tmp/dist \
    && useradd --no-log-init --create-home --uid 10001 --user-group latentdash \
    && mkdir -p /var/cache/latentdash \
    && chown latentdash:latentdash /var/cache/latentdash
# numba (UMAP) caches compiled code; the installed package is read-only for the user
ENV PATH=/opt/latentdash/bin:$PATH \
    NUMBA_CACHE_DIR=/tmp/numba-cache

# Every setting of `latentdash serve` (latentdash/server/config.py, ENV). An empty value means the
# built-in default, shown in the comment; set any of them with `docker run -e` or in compose.yaml.
# LATENTDASH_CHECKPOINTS: comma-separated paths or shipped names (empty: the four shipped ones,
#   fashion-vae-16 first). Mount your own under /data and name them: /data/my-vae.pt
ENV LATENTDASH_CHECKPOINTS="" \
    LATENTDASH_DATASET=fashion-mnist-test \
    LATENTDASH_DATA="" \
    LATENTDASH_HOST=0.0.0.0 \
    LATENTDASH_PORT=8050 \
    LATENTDASH_LIMIT="" \
    LATENTDASH_METHODS=pca,tsne,umap \
    LATENTDASH_DIMS=2,3 \
    LATENTDASH_CACHE=/var/cache/latentdash \
    LATENTDASH_MAX_SLIDERS=16 \
    LATENTDASH_THREADS=1 \
    LATENTDASH_SERVER=gunicorn \
    LATENTDASH_SERVER_THREADS=8 \
    LATENTDASH_WORKERS=0 \
    LATENTDASH_ASSETS=/srv/latentdash/assets \
    LATENTDASH_FRAME_ANCESTORS="'self'" \
    LATENTDASH_REDIS_URL="" \
    LATENTDASH_OFFER="" \
    LATENTDASH_JOBS_PER_HOUR=6 \
    LATENTDASH_MAX_UPLOAD_MB=5 \
    LATENTDASH_DEBUG=0
# LATENTDASH_DATA: a folder with dataset files (empty: the bundled images need none)
# LATENTDASH_LIMIT: map a stratified subset of N images (empty: all of them)
# LATENTDASH_ASSETS: a folder of your own CSS/JS, e.g. a mounted /assets (empty: ./assets if any)
# LATENTDASH_WORKERS: gunicorn processes (0: one per core, capped)
# LATENTDASH_REDIS_URL: background jobs on Celery + Redis, e.g. redis://redis:6379/0 (empty: a
#   disk cache in this container)
# LATENTDASH_OFFER: more checkpoints (comma-separated) whose atlas a background job may build
# LATENTDASH_ADMIN_TOKEN: hosted mode, background jobs only for holders of this token. A secret:
#   not baked into the image; pass it at run time (docker run -e LATENTDASH_ADMIN_TOKEN=...).

USER 10001:10001
WORKDIR /home/latentdash
EXPOSE 8050
VOLUME ["/var/cache/latentdash"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + (os.environ.get('LATENTDASH_PORT') or '8050') + '/healthz', timeout=4)"]
# gunicorn (LATENTDASH_SERVER): the models and atlases are loaded once, then the workers fork;
# `docker stop` (SIGTERM) is gunicorn's graceful shutdown.
CMD ["latentdash", "serve"]
