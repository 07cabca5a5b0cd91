"""The production deployment files agree with each other and with the code, checked statically (no Docker).

docker-compose.yml (its S3-compatible object store, the HTTP API and its Prometheus and Grafana included),
.env.example, Dockerfile, dagster.yaml, billing_pipeline/workspace.yaml and deploy/workspace.docker.yaml. The
Prometheus rules and the Grafana dashboard themselves are checked by test_deploy_monitoring.py.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from billing_pipeline.settings_docs import SETTINGS
from billing_pipeline_tests.support.paths import PROJECT_ROOT
from billing_pipeline_tests.support.processes import child_environment
from billing_pipeline_tests.support.stacks import dagster_home

COMPOSE_PATH = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE_PATH = PROJECT_ROOT / ".env.example"
DOCKERFILE_PATH = PROJECT_ROOT / "Dockerfile"
DAGSTER_YAML_PATH = PROJECT_ROOT / "dagster.yaml"
WORKSPACE_PATH = PROJECT_ROOT / "billing_pipeline" / "workspace.yaml"
DOCKER_WORKSPACE_PATH = PROJECT_ROOT / "deploy" / "workspace.docker.yaml"

SERVICES = ("postgres", "s3", "code", "webserver", "daemon", "api", "prometheus", "grafana")
DAGSTER_SERVICES = ("code", "webserver", "daemon")
IMAGE_SERVICES = (*DAGSTER_SERVICES, "api")  # every service that runs the pipeline's image, with its environment
API_PORT = 8000  # `billing api` in its container
PROMETHEUS_DIR = PROJECT_ROOT / "deploy" / "prometheus"
GRAFANA_DIR = PROJECT_ROOT / "deploy" / "grafana"
S3_SERVICE = "s3"  # the S3-compatible object store holding the billing data
BUCKET_JOB = "s3-bucket"  # the one-shot that creates its bucket
S3_PORT = 8333  # SeaweedFS's S3 gateway
AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
# Variables that hold a credential: a compose default or an .env.example value of one must be a DEMO value.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY")
POSTGRES_DB_FIELDS = {
    "username": "DAGSTER_POSTGRES_USER",
    "password": "DAGSTER_POSTGRES_PASSWORD",
    "hostname": "DAGSTER_POSTGRES_HOST",
    "db_name": "DAGSTER_POSTGRES_DB",
    "port": "DAGSTER_POSTGRES_PORT",
}
LOCATION_NAME = "billing_pipeline"
DEFS_MODULE = "billing_pipeline.definitions"

# `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`; `$$VAR` is Compose's escape for a literal `$`.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _compose_text() -> str:
    return COMPOSE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(_compose_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _env_example() -> dict[str, str | None]:
    """Every variable .env.example documents: its value, or None when the line is commented out."""
    documented: dict[str, str | None] = {}
    for line in ENV_EXAMPLE_PATH.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(#?)\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            commented, name, value = match.groups()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            documented.setdefault(name, None if commented else value)
    return documented


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _command(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def _is_interpolation(value: str) -> bool:
    return INTERPOLATION.fullmatch(value) is not None


# --- docker-compose.yml ----------------------------------------------------------------------------------------


def test_the_services_exist(services):
    assert set(SERVICES) | {BUCKET_JOB} <= set(services)


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck and healthcheck.get("test"), name
    assert not healthcheck.get("disable", False), name


def _depends_on(service: dict[str, Any]) -> dict[str, Any]:
    depends_on = service.get("depends_on") or {}
    assert isinstance(depends_on, dict), "depends_on must be the long form, with a condition"
    return depends_on


@pytest.mark.parametrize(
    ("name", "needs"),
    [("code", ("postgres", "s3")), ("webserver", ("postgres", "s3", "code")), ("daemon", ("postgres", "s3", "code")),
     ("api", ("postgres", "s3", "code")), (BUCKET_JOB, ("s3",))],
)
def test_services_start_only_when_what_they_need_is_healthy(services, name, needs):
    depends_on = _depends_on(services[name])
    for dependency in needs:
        assert dependency in depends_on, f"{name} does not depend on {dependency}"
        assert depends_on[dependency].get("condition") == "service_healthy", f"{name} -> {dependency}"


@pytest.mark.parametrize("name", IMAGE_SERVICES)
def test_dagster_services_start_only_once_the_bucket_exists(services, name):
    depends_on = _depends_on(services[name])
    assert depends_on.get(BUCKET_JOB, {}).get("condition") == "service_completed_successfully", name


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_comes_back_after_a_crash(services, name):
    assert services[name]["restart"] in ("unless-stopped", "always"), name


def test_the_daemon_sees_the_run_workers_processes(services, instance_yaml):
    """Run monitoring checks run workers by pid (LocalProcessRunLauncher): the daemon, which monitors, shares the
    pid namespace of the `code` container, where the code server starts them."""
    assert services["daemon"]["pid"] == "service:code"
    assert "init" not in services["daemon"]  # the code container's init is pid 1 of the shared namespace
    assert services["code"]["init"] is True
    assert instance_yaml["run_launcher"]["class"] == "LocalProcessRunLauncher"
    assert instance_yaml["run_monitoring"]["enabled"] is True


def test_healthchecks_probe_the_right_thing(services):
    postgres_test = " ".join(services["postgres"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{S3_PORT}/healthz" in " ".join(services[S3_SERVICE]["healthcheck"]["test"])
    assert "pg_isready" in postgres_test
    assert "$$POSTGRES_USER" in postgres_test and "$$POSTGRES_DB" in postgres_test
    assert services["code"]["healthcheck"]["test"][1:] == ["dagster", "api", "grpc-health-check", "-p", "4000"]
    assert "http://localhost:3000/server_info" in " ".join(services["webserver"]["healthcheck"]["test"])
    assert services["daemon"]["healthcheck"]["test"][1:] == ["dagster-daemon", "liveness-check"]
    api_test = services["api"]["healthcheck"]["test"]
    assert api_test[:3] == ["CMD", "python", "-c"]  # the image has no curl
    assert f"http://127.0.0.1:{API_PORT}/health" in api_test[3]
    compile(api_test[3], "api healthcheck", "exec")
    assert "http://127.0.0.1:9090/-/ready" in " ".join(services["prometheus"]["healthcheck"]["test"])
    assert "http://127.0.0.1:3000/api/health" in " ".join(services["grafana"]["healthcheck"]["test"])


def test_commands(services):
    code = _command(services["code"])
    assert "billing db upgrade && billing pools &&" in code  # schema current, pool limits set, then serve
    assert f"dagster code-server start -h 0.0.0.0 -p 4000 -m {DEFS_MODULE}" in code
    assert _command(services["webserver"]).startswith("dagster-webserver -h 0.0.0.0 -p 3000 -w ")
    assert _command(services["daemon"]).startswith("dagster-daemon run -w ")
    assert any(port.endswith(":3000") for port in services["webserver"]["ports"])
    assert _command(services["api"]) == f"billing api --host 0.0.0.0 --port {API_PORT}"


def test_every_interpolated_variable_is_documented_in_env_example(compose):
    documented = _env_example()
    referenced = {match.group(1) for value in _strings(compose) for match in INTERPOLATION.finditer(value)}
    assert referenced, "docker-compose.yml is expected to be configured through ${VAR} interpolation"
    assert not referenced - set(documented), f"not in .env.example: {sorted(referenced - set(documented))}"


def test_compose_defaults_equal_env_example_and_settings_defaults(compose):
    """Except a credential whose setting defaults to empty: compose gives it a DEMO value (BILLING_API_TOKENS, which
    the API needs to listen beyond loopback), as it does for the PostgreSQL password."""
    documented = _env_example()
    code_defaults = {spec.env_var: spec.default for spec in SETTINGS}
    for match in (match for value in _strings(compose) for match in INTERPOLATION.finditer(value)):
        name, operator, default = match.groups()
        assert operator in (None, ":-"), f"${{{name}}}: use ${{{name}:-default}}"
        if operator is None:
            continue
        if documented.get(name) is not None:
            assert default == documented[name], f"{name}: compose {default!r} != .env.example {documented[name]!r}"
        if name in code_defaults and not (SECRET_NAME.search(name) and not code_defaults[name]
                                          and "demo" in default.lower()):
            assert default == code_defaults[name], f"{name}: compose {default!r} != settings {code_defaults[name]!r}"


def test_env_example_values_are_the_settings_defaults():
    documented = _env_example()
    for spec in SETTINGS:
        assert spec.env_var in documented, spec.env_var
        if documented[spec.env_var] is not None:
            assert documented[spec.env_var] == spec.default, spec.env_var


def test_env_example_marks_demo_credentials():
    text = ENV_EXAMPLE_PATH.read_text(encoding="utf-8")
    assert "DEMO CREDENTIALS" in text
    for line in text.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and SECRET_NAME.search(match.group(1)) and match.group(2).strip():  # empty: no secret
            assert "demo" in line.lower(), line


def test_no_service_has_a_literal_password(services):
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert _is_interpolation(value), f"{name}.{key} must be ${{...}}, not a literal"
        for value in _strings(service):
            masked = INTERPOLATION.sub(lambda match: f"<{match.group(1)}>", value)
            for match in re.finditer(r"://[^:/@\s]+:([^@\s]+)@", masked):
                assert re.fullmatch(r"<[A-Z0-9_]+>", match.group(1)), f"{name}: literal password in a URL: {value}"


def test_dagster_services_share_settings_and_volumes(services, compose):
    required = set(POSTGRES_DB_FIELDS.values()) | {spec.env_var for spec in SETTINGS} | set(AWS_VARIABLES)
    for name in IMAGE_SERVICES:
        environment = _environment(services[name])
        assert not required - set(environment), f"{name} lacks {sorted(required - set(environment))}"
        assert make_url(environment["BILLING_DATABASE_URL"]).drivername == "postgresql+psycopg", name
        assert "@postgres:5432/" in environment["BILLING_DATABASE_URL"], name
        assert environment["DAGSTER_POSTGRES_HOST"] == "postgres", name
        for volume in services[name].get("volumes") or []:
            source = volume.split(":", 1)[0]
            assert source in compose["volumes"], f"{name}: {volume} is not a named volume"
    for name in IMAGE_SERVICES:
        assert _environment(services[name]) == _environment(services["code"]), f"{name} must share code's settings"
        assert sorted(services[name]["volumes"]) == sorted(services["code"]["volumes"]), f"{name}: other volumes"
        assert services[name]["image"] == services["code"]["image"], name


# --- the object store ------------------------------------------------------------------------------------------


def _bucket_and_prefix(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    assert parts.scheme == "s3" and parts.netloc, url
    return parts.netloc, parts.path.strip("/")


def test_the_billing_data_is_in_the_object_store_bucket(services):
    """BILLING_DATA_DIR, the inbox and the suppression list are objects of the `s3` service's bucket, reached through
    the standard AWS variables; no billing file is on a volume any more."""
    for name in IMAGE_SERVICES:
        environment = _environment(services[name])
        bucket, prefix = _bucket_and_prefix(environment["BILLING_DATA_DIR"])
        assert bucket and prefix, name
        for setting in ("BILLING_INBOX", "BILLING_SUPPRESSION_FILE"):
            assert _bucket_and_prefix(environment[setting])[0] == bucket, f"{name}.{setting}"
        endpoint = urlsplit(environment["AWS_ENDPOINT_URL"])
        assert (endpoint.scheme, endpoint.hostname, endpoint.port) == ("http", S3_SERVICE, S3_PORT), name
        assert environment["AWS_REGION"] == "us-east-1", name
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert _is_interpolation(environment[key]), f"{name}.{key} must come from .env"
        mounted = [volume.split(":")[1] for volume in services[name].get("volumes") or []]
        assert not [path for path in mounted if path.startswith("/opt/billing")], f"{name} mounts billing data"
        assert mounted == ["/opt/dagster/home/storage"], name  # compute logs only


def test_the_object_store_service(services, compose):
    store = services[S3_SERVICE]
    image, _, tag = store["image"].partition(":")
    assert image.endswith("chrislusf/seaweedfs") and re.fullmatch(r"\d+\.\d+", tag), "pin a SeaweedFS release"
    command = _command(store).split()
    assert command[0] == "mini" and "-dir=/data" in command
    assert "-ip.bind=0.0.0.0" in command  # else it listens on the container's address only, not its healthcheck's
    config_flag = next(arg for arg in command if arg.startswith("-s3.config="))
    targets = {item["target"]: item["source"] for item in store["configs"]}
    assert config_flag.split("=", 1)[1] in targets, "the -s3.config file is the identities config"
    data = [volume.split(":", 1)[0] for volume in store["volumes"] if volume.endswith(":/data")]
    assert data and data[0] in compose["volumes"], "the store keeps its objects on a named volume"


def test_the_object_store_is_published_on_loopback_only(services):
    """Only the UI is published on every interface, as before; the store, with its DEMO keys, on 127.0.0.1."""
    for name, service in services.items():
        for port in service.get("ports") or []:
            if name == "webserver":
                continue
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"
    assert any(str(port).endswith(f":{S3_PORT}") for port in services[S3_SERVICE]["ports"])


def _interpolated(value: str) -> str:
    return INTERPOLATION.sub(lambda match: f"<{match.group(1)}>", value)


def test_the_stores_identity_is_the_pipelines_key_pair(services, compose):
    store = services[S3_SERVICE]
    source = next(item["source"] for item in store["configs"] if item["target"] in _command(store))
    identities = json.loads(_interpolated(compose["configs"][source]["content"]))["identities"]
    assert len(identities) == 1
    credentials = identities[0]["credentials"]
    pipeline = _environment(services["code"])
    expected = {"accessKey": _interpolated(pipeline["AWS_ACCESS_KEY_ID"]),
                "secretKey": _interpolated(pipeline["AWS_SECRET_ACCESS_KEY"])}
    assert credentials == [expected], "the store must accept exactly the keys the pipeline uses"


def test_the_bucket_job_creates_the_data_dirs_bucket_with_the_pipelines_environment(services):
    job = services[BUCKET_JOB]
    assert job.get("restart", "no") == "no", "a one-shot: it runs once per `up`"
    environment = _environment(job)
    pipeline = _environment(services["code"])
    for key in AWS_VARIABLES:
        assert environment[key] == pipeline[key], key
    assert environment["BILLING_DATA_DIR"] == pipeline["BILLING_DATA_DIR"]
    assert job["image"] == services["code"]["image"]  # botocore comes with the pipeline's own image
    script = _command(job)
    assert "create_bucket(" in script and "BucketAlreadyOwnedByYou" in script  # idempotent
    compile(job["command"][-1], BUCKET_JOB, "exec")


def test_no_secret_but_the_demo_ones(compose):
    """Every credential comes from .env, and its compose default is a DEMO value or empty (BILLING_API_METRICS_TOKEN:
    none); no other secret is written down."""
    for value in _strings(compose):
        for match in INTERPOLATION.finditer(value):
            name, operator, default = match.groups()
            if SECRET_NAME.search(name) and operator and default:
                assert "demo" in default.lower(), f"${{{name}}}: default {default!r} is not a DEMO value"
    content = _interpolated(compose["configs"]["s3_identities"]["content"])
    for key in ("accessKey", "secretKey"):
        for value in re.findall(rf'"{key}"\s*:\s*"([^"]*)"', content):
            assert re.fullmatch(r"<[A-Z0-9_]+>", value), f"literal {key} in the identities config"


def test_postgres_service_is_configured_from_the_environment(services):
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    environment = _environment(postgres)
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert _is_interpolation(environment[key]), key
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])


# --- the HTTP API and its monitoring ---------------------------------------------------------------------------


def _published(service: dict[str, Any], container_port: int) -> list[str]:
    return [str(port) for port in service.get("ports") or [] if str(port).endswith(f":{container_port}")]


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """target -> (source, options) of the service's short-form volumes."""
    mounts = {}
    for volume in service.get("volumes") or []:
        source, target, *options = str(volume).split(":")
        mounts[target] = (source, ":".join(options))
    return mounts


def _pinned(image: str, name: str, pattern: str) -> bool:
    repository, _, tag = image.partition(":")
    return repository == name and re.fullmatch(pattern, tag) is not None


def test_the_api_service(services):
    """`billing api` in the pipeline's image, on every interface of its container (which it does only with bearer
    tokens: a DEMO default, from .env), published on this host's loopback only."""
    api = services["api"]
    assert api["image"] == services["code"]["image"] and api.get("build") == services["code"].get("build")
    assert api["init"] is True
    assert _published(api, API_PORT) == [f"127.0.0.1:${{API_PORT:-{API_PORT}}}:{API_PORT}"]
    environment = _environment(api)
    tokens = INTERPOLATION.fullmatch(environment["BILLING_API_TOKENS"])
    assert tokens and tokens.group(1) == "BILLING_API_TOKENS", "the tokens come from .env"
    assert "demo" in tokens.group(3).lower(), "the compose default token is a DEMO value"
    assert (environment["BILLING_API_HOST"], environment["BILLING_API_PORT"]) == ("0.0.0.0", str(API_PORT))


def test_the_prometheus_service(services, compose):
    prometheus = services["prometheus"]
    assert _pinned(prometheus["image"], "prom/prometheus", r"v\d+\.\d+\.\d+"), "pin a Prometheus release"
    mounts = _mounts(prometheus)
    assert mounts["/etc/prometheus"] == ("./deploy/prometheus", "ro")
    assert (PROJECT_ROOT / mounts["/etc/prometheus"][0]).resolve() == PROMETHEUS_DIR
    command = _command(prometheus).split()
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    assert (PROMETHEUS_DIR / "prometheus.yml").is_file()
    storage = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--storage.tsdb.path="))
    assert mounts[storage][0] in compose["volumes"], "its samples are kept on a named volume"
    assert _published(prometheus, 9090) == ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"]
    # not service_healthy: an API that never gets healthy is what BillingApiDown reports
    assert _depends_on(prometheus)["api"]["condition"] == "service_started"


def test_prometheus_scrapes_the_api_service(services):
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["billing-api"]
    assert [target for group in api["static_configs"] for target in group["targets"]] == [f"api:{API_PORT}"]
    assert api.get("metrics_path", "/metrics") == "/metrics"
    assert api["honor_labels"] is True  # billing_dagster_runs keeps its own `job` label
    assert config["rule_files"] == ["alerts.yml"] and (PROMETHEUS_DIR / "alerts.yml").is_file()
    assert "api" in services


def test_the_grafana_service(services, compose):
    grafana = services["grafana"]
    assert _pinned(grafana["image"], "grafana/grafana", r"\d+\.\d+\.\d+"), "pin a Grafana release"
    mounts = _mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == ("./deploy/grafana/provisioning", "ro")
    dashboards_mount = next(target for target, (source, _) in mounts.items()
                            if source == "./deploy/grafana/dashboards")
    assert mounts["/var/lib/grafana"][0] in compose["volumes"]
    environment = _environment(grafana)
    password = INTERPOLATION.fullmatch(environment["GF_SECURITY_ADMIN_PASSWORD"])
    assert password and password.group(1) == "GRAFANA_ADMIN_PASSWORD" and "demo" in password.group(3)
    assert environment["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"  # anonymous visitors, when enabled, only look
    assert environment["GF_USERS_ALLOW_SIGN_UP"] == "false"
    home = environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_mount + "/")
    assert (GRAFANA_DIR / "dashboards" / home.removeprefix(dashboards_mount + "/")).is_file()
    assert _published(grafana, 3000) == ["127.0.0.1:${GRAFANA_PORT:-3001}:3000"]

    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "smart-billing.yml").read_text())
    assert [provider["options"]["path"] for provider in providers["providers"]] == [dashboards_mount]
    datasources = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    assert "prometheus" in services and _published(services["prometheus"], 9090)


def test_the_published_ports_do_not_collide(services):
    """Each host port variable's default is different (Grafana's 3001, not the Dagster UI's 3000)."""
    defaults = []
    for service in services.values():
        for port in service.get("ports") or []:
            match = INTERPOLATION.search(str(port))
            defaults.append(match.group(3) if match else str(port).rsplit(":", 2)[-2])
    assert len(defaults) == len(set(defaults)), defaults


# --- Dockerfile ------------------------------------------------------------------------------------------------


def test_dockerfile_installs_the_pinned_package():
    dockerfile = DOCKERFILE_PATH.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    assert re.search(r"^FROM python:3\.11-slim\b", joined, re.M)
    copied = " ".join(re.findall(r"^COPY (.*)$", joined, re.M))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "billing_pipeline/", "dagster.yaml",
                   "deploy/"):
        assert needed in copied, needed
    # Installed from a copy that is then removed: nothing imports a source tree instead of the package.
    assert re.search(r"pip install --no-cache-dir -c /tmp/src/constraints\.txt \"/tmp/src\[celery\]\" && rm -rf /tmp/src", joined)
    assert re.search(r"DAGSTER_HOME=/opt/dagster/home\b", joined)
    assert re.search(r"BILLING_DATA_DIR=/opt/billing/data\b", joined)
    assert re.search(r"dagster\.yaml \"?\$DAGSTER_HOME/dagster\.yaml", joined)
    assert "WORKDIR /app" in joined


def test_the_images_paths_are_the_ones_compose_uses(services):
    workspace_in_image = "/app/" + DOCKER_WORKSPACE_PATH.relative_to(PROJECT_ROOT).as_posix()
    for name in ("webserver", "daemon"):
        assert f"-w {workspace_in_image}" in _command(services[name]), name


# --- dagster.yaml ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instance_yaml() -> dict[str, Any]:
    return yaml.safe_load(DAGSTER_YAML_PATH.read_text(encoding="utf-8"))


def test_dagster_yaml_uses_postgres_from_the_environment(instance_yaml):
    storage = instance_yaml["storage"]["custom"]
    assert (storage["module"], storage["class"]) == ("billing_pipeline.instance.pooled_postgres_storage",
                                                     "PooledPostgresStorage")
    postgres_db = storage["config"]["postgres_db"]
    assert postgres_db["scheme"] == "postgresql+psycopg2"
    for field, variable in POSTGRES_DB_FIELDS.items():
        assert postgres_db[field] == {"env": variable}, field
    assert set(postgres_db) == set(POSTGRES_DB_FIELDS) | {"scheme"}
    documented = _env_example()
    assert not set(POSTGRES_DB_FIELDS.values()) - set(documented)


def test_dagster_yaml_settings(instance_yaml):
    assert instance_yaml["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert instance_yaml["sensors"] == {"use_threads": True, "num_workers": 2}
    assert instance_yaml["run_retries"] == {"enabled": True, "max_retries": 3, "retry_on_asset_or_op_failure": False}
    assert instance_yaml["telemetry"] == {"enabled": False}
    assert instance_yaml["local_artifact_storage"]["config"]["base_dir"].startswith("/opt/dagster/home")
    assert instance_yaml["compute_logs"]["config"]["base_dir"].startswith("/opt/dagster/home")


def _set_dagster_postgres_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    parsed = make_url(url)
    monkeypatch.setenv("DAGSTER_POSTGRES_USER", parsed.username or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_PASSWORD", parsed.password or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_HOST", parsed.host or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_DB", parsed.database or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_PORT", str(parsed.port or 5432))


def _connections_ever_opened(url: str) -> int:
    import psycopg

    parsed = make_url(url)
    with psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname="postgres",
                         autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        return connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                                  (parsed.database,)).fetchone()[0]


def test_dagster_yaml_matches_dagsters_instance_schema(instance_yaml):
    """Validated by the installed Dagster (unknown keys and wrong types fail); `env:` is resolved on load."""
    from dagster._core.instance.config import dagster_instance_config

    config, custom_class = dagster_instance_config(str(PROJECT_ROOT))
    assert custom_class is None
    assert config["storage"] == instance_yaml["storage"]


def test_dagster_yaml_loads_an_instance_on_postgresql_shared_with_the_store(postgres, tmp_path, monkeypatch):
    """One database for Dagster and the store, as docker-compose.yml sets up: no table names collide."""
    from dagster import DagsterInstance
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    from billing_pipeline.instance.run_launcher import LocalProcessRunLauncher
    from billing_pipeline.store.engine import create_store_engine
    from billing_pipeline.store.migrate import pending, upgrade

    url = postgres.create_database("dagster_instance_test")
    engine = create_store_engine(url)
    upgrade(engine)

    home = dagster_home(tmp_path, DAGSTER_YAML_PATH.read_text(encoding="utf-8"))
    _set_dagster_postgres_env(monkeypatch, url)
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert instance.run_storage.postgres_url.startswith("postgresql+psycopg2://")
        assert instance.get_runs() == []
        # one connection held per process, not one opened per call (dagster-postgres' default outside its
        # webserver)
        for part in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
            assert type(part._engine.pool).__name__ == "QueuePool", part
        connections_before = _connections_ever_opened(url)
        for _ in range(20):
            instance.get_runs()
            instance.get_run_records()
        assert _connections_ever_opened(url) - connections_before <= 1
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 3
        assert isinstance(instance.run_launcher, LocalProcessRunLauncher)
        assert instance.run_monitoring_enabled and instance.run_launcher.supports_check_run_worker_health
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.get_settings("telemetry")["enabled"]

    assert not pending(engine)
    engine.dispose()


# --- workspaces ------------------------------------------------------------------------------------------------


def test_workspaces_name_the_same_code_location(services):
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["dagster"]["code_location_name"] == LOCATION_NAME

    local = yaml.safe_load(WORKSPACE_PATH.read_text(encoding="utf-8"))
    assert local["load_from"] == [{"python_module": {"module_name": DEFS_MODULE, "location_name": LOCATION_NAME}}]

    docker = yaml.safe_load(DOCKER_WORKSPACE_PATH.read_text(encoding="utf-8"))
    assert docker["load_from"] == [{"grpc_server": {"host": "code", "port": 4000, "location_name": LOCATION_NAME}}]
    assert "code" in services


def test_workspace_yaml_loads_and_validates(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    home = tmp_path / "dagster_home"
    home.mkdir()
    environment = child_environment(DAGSTER_HOME=str(home), BILLING_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(WORKSPACE_PATH)],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert LOCATION_NAME in result.stdout + result.stderr
