# One multi-stage image for all three programs (and the fake provider server); the command picks
# the program (see docker-compose.yml). Build: docker build -t figway .
# The build stage resolves the locked dependencies with uv; the runtime stage carries only the
# virtualenv and the code, and runs as an unprivileged user.
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY gateway ./gateway
COPY services ./services
COPY legacy_flask ./legacy_flask
COPY tests/__init__.py ./tests/__init__.py
COPY tests/fakes ./tests/fakes
COPY routing.yaml gunicorn.conf.py ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends git procps curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 figway
WORKDIR /app
COPY --from=build --chown=figway:figway /app /app
# var/ holds the SQLite file and logs when no database server is configured.
RUN mkdir -p /app/var && chown figway:figway /app/var
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER figway
EXPOSE 8000 8001 5000 8090
CMD ["python", "-m", "gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
