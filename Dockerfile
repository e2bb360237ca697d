# syntax=docker/dockerfile:1
# bookstack-sync as a Woodpecker CI plugin: `image:` + `settings:` (PLUGIN_* variables) in a pipeline step.
#
# The base is pinned to a full version and digest; bump both together (and regenerate requirements.lock
# with `make lock` when the Python minor version changes, since the lock is resolved for it).
FROM python:3.11.15-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

LABEL org.opencontainers.image.title="bookstack-sync" \
      org.opencontainers.image.description="Woodpecker CI plugin: validate a Markdown docs tree and keep a BookStack wiki in step with it" \
      org.opencontainers.image.source="https://codeberg.org/bookstack-sync/bookstack-sync" \
      org.opencontainers.image.url="https://codeberg.org/bookstack-sync/bookstack-sync" \
      org.opencontainers.image.documentation="https://codeberg.org/bookstack-sync/bookstack-sync/src/branch/main/docs.md" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# git: identity follows the docs' history (a renamed or moved file keeps its BookStack page), read with
# `git diff --find-renames` in the pipeline's own checkout. Debian's package, security updates included.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# Runtime dependencies only, every file checked against the hashes in the lock; binary wheels only,
# so no compiler is ever needed (or left behind) in the image.
COPY requirements.lock /tmp/build/requirements.lock
RUN python -m pip install --no-cache-dir --only-binary=:all: --require-hashes -r /tmp/build/requirements.lock \
    && rm -rf /tmp/build

# The package itself, without its dependencies (they came from the lock above) and without dev extras.
# The build backend lives only in pip's throwaway build environment.
COPY pyproject.toml README.md* /tmp/src/
COPY plugin /tmp/src/plugin
RUN python -m pip install --no-cache-dir --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && bookstack-sync --version

# Run as uid 1000, like Woodpecker's own images since 3.0. Cloned files are world-readable; the
# workspace root is writable by all, which is where the report files go by default (a refused write
# is only a warning).
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin plugin
USER 1000:1000

# No WORKDIR: Woodpecker starts every plugin step in its workspace (/woodpecker/<path>, also in
# CI_WORKSPACE), and relative settings such as docs_dir resolve from there. A WORKDIR here would
# only matter for `docker run`, where `-w` does the same job.
ENTRYPOINT ["bookstack-sync"]
