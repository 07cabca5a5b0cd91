"""The bank's side through the daemon, as `make demo` runs it: a dropped file's boletos go out in a remessa once
they are all numbered (BILLING_REMESSA_AUTO), the demo bank answers it (BILLING_DEMO_BANK), the retorno is
imported from the retorno inbox, and the file's report is written again with what was paid; the same retorno
dropped again starts nothing."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterRunStatus, RunsFilter
from sqlalchemy import text

from billing_pipeline.cnab.simulate import planned_outcomes
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.stages.demo_bank import DEFAULT_DIFFERENT_AMOUNT, DEFAULT_PAID, DEFAULT_REJECTED
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline_tests.support.stacks import DagsterStack

pytestmark = pytest.mark.daemon

DEADLINE_SECONDS = 240


@pytest.fixture
def stack(postgres, tmp_path: Path) -> Iterator[DagsterStack]:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=postgres.create_database(),
                                 chunk_rows=300)
    settings.ensure_dirs()
    stack = DagsterStack.embedded(tmp_path, settings)
    stack.env.update(BILLING_REMESSA_AUTO="true", BILLING_DEMO_BANK="true")
    stack.start_daemon()
    yield stack
    stack.stop()


def test_a_dropped_file_is_registered_answered_by_the_demo_bank_and_reported_paid(stack, tmp_path):
    settings = stack.settings
    engine = create_store_engine(settings.database_url)
    upgrade(engine)

    def wait_for(condition, what: str):
        return stack.wait_for(condition, what, timeout=DEADLINE_SECONDS, every=1)

    def scalar(query: str):
        with engine.connect() as connection:
            return connection.execute(text(query)).scalar()

    source = tmp_path / "addressed.csv"
    write_sample(source, rows=800, seed=31, invalid_rate=0.0, with_address=True)
    submit(source, settings.inbox_dir)

    wait_for(lambda: scalar("SELECT COUNT(*) FROM remessas") == 1, "the remessa")
    boletos = scalar("SELECT COUNT(*) FROM boletos")
    remessa_name = scalar("SELECT file_name FROM remessas")
    assert scalar("SELECT entradas FROM remessas") == boletos == 800  # the whole file in one remessa

    wait_for(lambda: scalar("SELECT status FROM retorno_files") == "processed", "the simulated retorno imported")
    remessa = (settings.remessas_dir / remessa_name).read_bytes()
    plan = planned_outcomes(remessa, paid=DEFAULT_PAID, rejected=DEFAULT_REJECTED, paid_on=date.today(), seed=1,
                            different_amount=DEFAULT_DIFFERENT_AMOUNT)
    status_of_outcome = {"confirmed": "registered", "rejected": "registration_rejected", "paid": "paid"}
    expected = Counter(status_of_outcome[outcome] for outcome in plan["outcome"])
    with engine.connect() as connection:
        stored = Counter(dict(connection.execute(text(
            "SELECT status, COUNT(*) FROM boleto_states GROUP BY status")).all()))
    assert stored == expected
    assert expected["paid"] > 0 and expected["registration_rejected"] > 0

    file_id = scalar("SELECT file_id FROM source_files")
    report_path = settings.report_path(file_id)

    def reported_paid() -> int | None:
        if not report_path.exists():
            return None
        return json.loads(report_path.read_text(encoding="utf-8"))["collection"]["paid"]["count"]

    wait_for(lambda: reported_paid() == expected["paid"], "the file's report written again with what was paid")

    retorno_id = scalar("SELECT file_id FROM retorno_files").strip()
    events = scalar("SELECT COUNT(*) FROM boleto_events")
    again = tmp_path / "again.ret"
    shutil.copyfile(settings.retorno_archive_path(retorno_id), again)
    submit(again, settings.retorno_inbox_dir)
    wait_for(lambda: not (settings.retorno_inbox_dir / "again.ret").exists(), "the re-dropped retorno taken")
    imports = stack.instance.get_runs(RunsFilter(job_name="import_retorno"))
    assert [run.status for run in imports] == [DagsterRunStatus.SUCCESS]
    assert scalar("SELECT COUNT(*) FROM retorno_files") == 1
    assert scalar("SELECT COUNT(*) FROM boleto_events") == events
