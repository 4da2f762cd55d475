# One image for web, worker and beat; docker-compose.yml picks the command.

FROM python:3.11-slim-bookworm AS build
# durable-rules compiles a C extension.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /tmp/requirements.txt


FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements.txt \
    && rm -rf /wheels /tmp/requirements.txt

WORKDIR /app
COPY . .
# Hashed, compressed static files baked into the image; the key only lets settings load.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only REDIS_URL=redis://unused \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app app
USER app
EXPOSE 8000
# gunicorn reads its number of workers from WEB_CONCURRENCY (default 1 here; .env.example: 2).
CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000"]
