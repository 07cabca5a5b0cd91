# One image for the three Dagster services of docker-compose.yml: the code-location server (`code`), the
# webserver and the daemon. Every dependency version comes from constraints.txt.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home \
    BILLING_DATA_DIR=/opt/billing/data

WORKDIR /app

# The package is installed as a user's pip would (not editable) and its sources are removed: every process, the
# code server too (it puts its working directory on sys.path), runs the installed package, whose migrations,
# templates and instance files are package data. The workspace files in /app/deploy are used in place.
COPY pyproject.toml constraints.txt README.md /tmp/src/
COPY billing_pipeline/ /tmp/src/billing_pipeline/
# The `celery` extra: BILLING_EXECUTOR=celery, and the same image as a dagster-celery worker (docs/scale-out.md).
RUN pip install --no-cache-dir -c /tmp/src/constraints.txt "/tmp/src[celery]" && rm -rf /tmp/src
COPY deploy/ deploy/
COPY dagster.yaml ./

# The production Dagster instance (PostgreSQL storage; connection settings from DAGSTER_POSTGRES_*).
# $DAGSTER_HOME/storage is a named volume in docker-compose.yml, which puts the billing data in a bucket
# (BILLING_DATA_DIR=s3://billing/data); the local $BILLING_DATA_DIR default serves `docker run` without a store.
# Both are created here, owned by the unprivileged user, so that new volumes start with that ownership.
RUN useradd --system --uid 1000 --user-group --home-dir /opt/dagster --no-create-home dagster \
    && mkdir -p "$DAGSTER_HOME/storage" "$BILLING_DATA_DIR" \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster:dagster /opt/dagster /opt/billing

USER dagster

# 3000: dagster-webserver, 4000: the gRPC code-location server.
EXPOSE 3000 4000

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "billing_pipeline.definitions"]
