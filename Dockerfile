# syntax=docker/dockerfile:1
# EvoSync image: a builder stage with compilers (mysqlclient, gettext), then a slim runtime.

FROM python:3.12-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev gettext \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt requirements-mysql.txt ./
RUN pip install -r requirements-mysql.txt
COPY . .
# Build-time only values: production settings must load for collectstatic (hashed, compressed
# files for whitenoise). They are not kept in the image's environment.
RUN python manage.py compilemessages -v0 \
 && DEBUG=false \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0123456789 \
    ALLOWED_HOSTS=build.invalid \
    TOKEN_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc= \
    python manage.py collectstatic --noinput -v0

FROM python:3.12-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false \
    PORT=8000
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin evosync
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=evosync:evosync /app /app
WORKDIR /app
USER evosync
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-m", "evosync.healthcheck"]
CMD ["gunicorn", "evosync.wsgi:application"]
