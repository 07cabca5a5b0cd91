"""Files handed to the real `billing api` and processed by the real Dagster daemon, followed through the API only:
upload, status, rejects and report; a re-upload; 20 clients uploading at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from billing_pipeline.settings import Settings
from billing_pipeline_tests.support.api_server import ApiServer
from billing_pipeline_tests.support.files import write_sample_file
from billing_pipeline_tests.support.stacks import DagsterStack

pytestmark = pytest.mark.daemon

DEADLINE_SECONDS = 300
TOKEN = "end-to-end-token"


@pytest.fixture(scope="module")
def stack_and_api(postgres, tmp_path_factory) -> Iterator[tuple[DagsterStack, ApiServer]]:
    """The daemon on the instance file `billing dev` starts with, the store on PostgreSQL, and the API beside it on
    the same environment."""
    folder = tmp_path_factory.mktemp("api-end-to-end")
    settings = Settings.from_env({}, data_dir=folder / "data", database_url=postgres.create_database(),
                                 chunk_rows=400)
    settings.ensure_dirs()
    stack = DagsterStack.embedded(folder, settings)
    stack.env["BILLING_SMTP_RATE"] = "0"  # the file outbox, unthrottled: deliveries do not hold up the reports
    stack.start_daemon()
    api = ApiServer({**stack.env, "BILLING_API_TOKENS": TOKEN}, folder, folder / "api.log", TOKEN).start()
    yield stack, api
    api.stop()
    stack.stop()


def wait_until(stack: DagsterStack, client: httpx.Client, file_id: str, reported: bool = True) -> dict:
    """The file as GET /files/{file_id} shows it once it is processed (and, with `reported`, its report written:
    after every notice went out)."""
    def done() -> dict | None:
        detail = client.get(f"/files/{file_id}").json()
        return detail if detail["status"] == "processed" and (detail.get("report_url") or not reported) else None

    return stack.wait_for(done, f"file {file_id[:12]} to be processed" + (" and reported" if reported else ""),
                          timeout=DEADLINE_SECONDS, every=1)


def test_an_uploaded_file_is_processed_by_the_daemon_and_followed_through_the_api(stack_and_api, tmp_path):
    stack, api = stack_and_api
    sample = write_sample_file(tmp_path / "debts-december.csv", rows=1_000, seed=31, invalid_rate=0.03)
    with api.client() as client:
        with open(sample.path, "rb") as upload:
            accepted = client.post("/files", files={"file": ("debts-december.csv", upload, "text/csv")})
        assert accepted.status_code == 202, accepted.text
        file_id = accepted.json()["file_id"]
        assert file_id == sample.file_id

        detail = wait_until(stack, client, file_id)
        assert detail["original_name"] == "debts-december.csv" and detail["received_via"] == "inbox"
        assert (detail["rows"], detail["accepted"], detail["rejected"]) == (1_000, sample.accepted, sample.rejected)
        assert [chunk["status"] for chunk in detail["chunks"]] == ["loaded", "loaded", "loaded"]
        assert detail["report"]["file_id"] == file_id

        rejects = list(csv.DictReader(io.StringIO(client.get(detail["rejects_url"]).text)))
        assert {int(row["line_number"]) for row in rejects} == {error.line_number for error in sample.injected}
        assert {row["code"] for row in rejects} <= set(detail["reject_codes"])
        assert client.get(detail["report_url"]).json() == detail["report"]

        again = client.post("/upload", files={"file": ("copy.csv", sample.path.read_bytes())})
        assert again.status_code == 200
        assert (again.json()["file_id"], again.json()["status"]) == (file_id, "processed")
        assert "already received as debts-december.csv" in again.json()["already_received"]


def test_twenty_clients_uploading_at_once_all_get_their_file_processed(stack_and_api, tmp_path):
    stack, api = stack_and_api
    samples = [write_sample_file(tmp_path / f"client-{number:02d}.csv", rows=150, seed=100 + number)
               for number in range(20)]

    def upload(sample) -> httpx.Response:
        with api.client() as client:
            return client.post("/files", files={"file": (sample.path.name, sample.path.read_bytes())})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(upload, samples))
    assert [response.status_code for response in responses] == [202] * 20
    assert [response.json()["file_id"] for response in responses] == [sample.file_id for sample in samples]

    with api.client() as client:
        for sample in samples:
            detail = wait_until(stack, client, sample.file_id, reported=False)
            assert (detail["original_name"], detail["accepted"]) == (sample.path.name, 150)
        listed = client.get("/files", params={"status": "processed", "limit": 500}).json()["files"]
    assert {sample.file_id for sample in samples} <= {item["file_id"] for item in listed}
    assert not list(Path(stack.settings.inbox_dir).iterdir())  # parts, notes and files all gone
