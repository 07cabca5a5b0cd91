"""The monitoring files of the deployment hold together: deploy/prometheus/ (the scrape config, the alert rules and
their unit tests) passes promtool, every alert is tested firing and quiet and says what to do, and the Grafana
dashboard of deploy/grafana/ is valid JSON whose queries, like the rules', name only metrics the API exports.

promtool and prometheus are Debian's (support/prometheus.py installs them without a service if need be); the
PrometheusServer smoke test starts a real one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing_pipeline_tests.support.paths import PROJECT_ROOT
from billing_pipeline_tests.support.prometheus import (  # noqa: F401 - prometheus_tools is a fixture
    PrometheusServer,
    prometheus_tools,
    run_promtool,
)

PROMETHEUS_DIR = PROJECT_ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"
GRAFANA_DIR = PROJECT_ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "smart-billing.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
OPERATIONS = PROJECT_ROOT / "docs" / "operations.md"

# What GET /metrics exports (issue #16); a histogram is queried through its _bucket, _sum and _count series.
GAUGES_AND_COUNTERS = {
    "billing_files", "billing_rows_total", "billing_rejects_total", "billing_boletos_total", "billing_notices",
    "billing_inbox_files", "billing_inbox_oldest_file_age_seconds", "billing_chunk_reject_ratio_max",
    "billing_reject_ratio_threshold", "billing_dagster_runs", "billing_store_up", "billing_dagster_instance_up",
    "billing_inbox_up",
}
HISTOGRAMS = {"billing_file_processing_seconds"}
SCRAPE_METRICS = {"up"}  # written by Prometheus for each target
EXPORTED = (GAUGES_AND_COUNTERS | SCRAPE_METRICS
            | {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")})
SEVERITIES = {"warning", "critical"}

# Grafana's variables, replaced by a duration as Grafana does before it sends a query.
GRAFANA_VARIABLE = re.compile(r"\$(?:__rate_interval|__interval|__range)\b"
                              r"|\$\{__(?:rate_interval|interval|range)\}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
             "group_right", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: its identifiers outside strings, label matchers, ranges and
    grouping clauses that are neither functions, aggregations nor keywords."""
    text = GRAFANA_VARIABLE.sub("5m", expr)
    text = _STRING.sub('""', text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.groups()
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def test_metric_names_reads_promql():
    expr = ('sum by (job, le) (rate(foo_total{code=~"A|B", x="sum(y)"}[5m] offset 1h)) / on (job) '
            'group_left (le) bar:ratio > bool 0.5 and baz unless histogram_quantile(0.95, qux_bucket[$__range]) '
            '> 1e3 or vector(0)')
    assert metric_names(expr) == {"foo_total", "bar:ratio", "baz", "qux_bucket"}
    assert metric_names('up{job="billing-api"} == 0') == {"up"}
    assert metric_names("billing_inbox_oldest_file_age_seconds > 10 * 60") == {
        "billing_inbox_oldest_file_age_seconds"}


# --- Prometheus: the scrape config and the alert rules --------------------------------------------------------


def _promtool_passes(*arguments: str | Path, cwd: Path = PROMETHEUS_DIR) -> str:
    result = run_promtool(*arguments, cwd=cwd)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.mark.usefixtures("prometheus_tools")
def test_the_scrape_config_passes_promtool():
    assert "SUCCESS" in _promtool_passes("check", "config", CONFIG)


@pytest.mark.usefixtures("prometheus_tools")
def test_the_alert_rules_pass_promtool():
    assert f"SUCCESS: {len(_alert_rules())} rules found" in _promtool_passes("check", "rules", ALERTS)


@pytest.mark.usefixtures("prometheus_tools")
def test_the_alert_rules_unit_tests_pass():
    assert "SUCCESS" in _promtool_passes("test", "rules", ALERTS_TEST)


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_config_loads_the_alert_rules():
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert [(CONFIG.parent / path).resolve() for path in config["rule_files"]] == [ALERTS]


def test_the_alerts_cover_what_can_go_wrong():
    """A file rejected whole, a failed run, a chunk's reject rate, failing notices, an inbox backlog or an inbox
    that cannot be listed, and the API, the store and the instance down: each has its alert, on the metric that
    shows it."""
    expressions = {rule["alert"]: rule["expr"] for rule in _alert_rules()}
    assert len(expressions) == len(_alert_rules()), "alert names must be unique"
    wanted = {
        "BillingFileRejected": 'billing_files{status="rejected"}',
        "BillingRunFailed": 'billing_dagster_runs{status="FAILURE"}',
        "BillingChunkRejectRateAboveThreshold": "billing_chunk_reject_ratio_max > billing_reject_ratio_threshold",
        "BillingNoticesFailing": 'billing_notices{state="failed"}',
        "BillingInboxBacklog": "billing_inbox_oldest_file_age_seconds > 10 * 60",
        "BillingInboxUnreadable": "billing_inbox_up == 0",
        "BillingApiDown": 'up{job="billing-api"} == 0',
        "BillingStoreDown": "billing_store_up == 0",
        "BillingDagsterInstanceDown": "billing_dagster_instance_up == 0",
    }
    for alert, fragment in wanted.items():
        assert fragment in expressions.get(alert, ""), f"{alert}: {expressions.get(alert)!r} lacks {fragment!r}"


def test_every_alert_rule_names_only_exported_metrics():
    for rule in _alert_rules():
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= EXPORTED, f"{rule['alert']}: unknown metrics {sorted(names - EXPORTED)}"


def _operations_sections() -> set[str]:
    return {line.lstrip("#").strip() for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")}


@pytest.mark.parametrize("rule", _alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_waits_has_a_severity_and_says_what_to_do(rule):
    assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{rule['alert']}: a `for:` duration"
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and "\n" not in annotations["summary"]
    description = annotations["description"]
    cited = re.findall(r'docs/operations\.md, ((?:"[^"]+"(?: \([^)]*\))?(?:,| and)? ?)+)', description)
    assert cited, f"{rule['alert']}: the description names no docs/operations.md section"
    sections = set(re.findall(r'"([^"]+)"', " ".join(cited)))
    unknown = sections - _operations_sections()
    assert not unknown, f"{rule['alert']}: docs/operations.md has no section {sorted(unknown)}"


def _alert_tests() -> list[dict[str, Any]]:
    return [case for test in yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))["tests"]
            for case in test.get("alert_rule_test", [])]


def test_every_alert_is_tested_firing_and_quiet():
    assert yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))["rule_files"] == [ALERTS.name]
    for rule in _alert_rules():
        cases = [case for case in _alert_tests() if case["alertname"] == rule["alert"]]
        assert any(case.get("exp_alerts") for case in cases), f"{rule['alert']}: no test in which it fires"
        assert any(not case.get("exp_alerts") for case in cases), f"{rule['alert']}: no test in which it is quiet"
        for case in cases:
            for expected in case.get("exp_alerts") or []:
                assert expected["exp_labels"]["severity"] == rule["labels"]["severity"], rule["alert"]
                assert set(expected.get("exp_annotations", {})) == set(rule["annotations"]), rule["alert"]
    tested = {case["alertname"] for case in _alert_tests()}
    assert tested <= {rule["alert"] for rule in _alert_rules()}, "a test of an alert that does not exist"


# --- Grafana: the data source and the dashboard ---------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return panels


def _queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"])
            for panel in _panels(dashboard) for target in panel.get("targets", [])]


def test_the_dashboard_is_a_grafana_dashboard(dashboard):
    assert dashboard["uid"] == "smart-billing" and dashboard["title"]  # stable: links and the home page use it
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard.get("id") is None  # provisioned: Grafana gives it its id
    panels = _panels(dashboard)
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["type"] in {"stat", "timeseries", "bargauge", "table", "row", "gauge", "text"}, panel["title"]
        grid = panel["gridPos"]
        assert grid["w"] >= 1 and grid["h"] >= 1 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        if panel["type"] in {"row", "text"}:
            continue
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids and len(set(ref_ids)) == len(ref_ids), panel["title"]


def test_the_dashboard_queries_the_provisioned_data_source(dashboard):
    (datasource,) = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    for panel in _panels(dashboard):
        for node in (panel, *panel.get("targets", [])):
            if "datasource" in node:
                assert node["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]


def test_every_dashboard_query_names_only_exported_metrics(dashboard):
    queries = _queries(dashboard)
    assert queries
    for title, expr in queries:
        names = metric_names(expr)
        assert names, f"{title}: {expr}"
        assert names <= EXPORTED, f"{title}: unknown metrics {sorted(names - EXPORTED)} in {expr}"


def test_the_dashboard_shows_what_an_operator_follows(dashboard):
    """File processing rate and time (mean, p95), rows and rejects by code, boletos, notices by state, the inbox
    backlog, runs by status, and whether the API, the store, the instance and the inbox answer."""
    exprs = [expr for _, expr in _queries(dashboard)]
    named = set().union(*(metric_names(expr) for expr in exprs))
    assert not EXPORTED - named, f"no panel shows {sorted(EXPORTED - named)}"
    assert any("histogram_quantile(0.95" in expr and "billing_file_processing_seconds_bucket" in expr
               for expr in exprs)
    assert any("billing_file_processing_seconds_sum" in expr and "_count" in expr for expr in exprs)  # the mean
    for grouped in ("by (code)", "by (state)", "by (status)", "by (outcome)"):
        assert any(grouped in expr for expr in exprs), grouped


@pytest.mark.usefixtures("prometheus_tools")
def test_every_dashboard_query_is_valid_promql(dashboard, tmp_path):
    """promtool parses each query (Grafana's variables replaced by a duration) as a recording rule."""
    rules = [{"record": f"dashboard:query_{number}", "expr": GRAFANA_VARIABLE.sub("5m", expr)}
             for number, (_, expr) in enumerate(_queries(dashboard))]
    rules_file = tmp_path / "dashboard_rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    assert f"SUCCESS: {len(rules)} rules found" in _promtool_passes("check", "rules", rules_file, cwd=tmp_path)


# --- PrometheusServer -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("prometheus_tools")
def test_prometheus_server_scrapes_itself_and_loads_the_alert_rules(tmp_path):
    server = PrometheusServer(tmp_path, rule_files=[ALERTS], scrape_interval=0.5)
    with server:
        server.wait_for_target_up("prometheus", timeout=60)
        assert server.value('up{job="prometheus"}') == 1
        loaded = {rule["name"] for group in server.rules() for rule in group["rules"]}
        assert loaded == {rule["alert"] for rule in _alert_rules()}
        assert server.alerts() == []  # no API scraped: billing_* absent, and BillingApiDown has no target
    assert not server.running


def test_the_rules_and_the_dashboard_name_the_metrics_the_api_exports(tmp_path, monkeypatch):
    """EXPORTED (what the rules and panels are checked against) is what a real GET /metrics says: a renamed
    metric fails here rather than leaving an alert that never fires."""
    from fastapi.testclient import TestClient

    from billing_pipeline.api.app import create_app
    from billing_pipeline.settings import Settings

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    settings.ensure_dirs()
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        text = client.get("/metrics").text
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    watched_only_here = {"billing_chunks_recent", "billing_metrics_scrape_seconds"}  # for a person, not a rule
    runs_appear_with_runs = {"billing_dagster_runs"}  # no Dagster instance here
    assert exported - watched_only_here == EXPORTED - SCRAPE_METRICS - runs_appear_with_runs
