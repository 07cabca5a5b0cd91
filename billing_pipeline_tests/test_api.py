"""The HTTP API (billing_pipeline/api) against a real `billing api` (uvicorn) on a free port, with httpx: uploads
into the inbox, reading files and boletos back, authentication, errors, health, presigned uploads."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from billing_pipeline import stages
from billing_pipeline.ingest.inbox import scan
from billing_pipeline.settings import Settings
from billing_pipeline.store.boletos import boleto_rows
from billing_pipeline_tests.support.api_server import ApiServer, settings_environment
from billing_pipeline_tests.support.files import store_sample, write_sample_file
from billing_pipeline_tests.support.ports import free_port
from billing_pipeline_tests.support.waiting import wait_for

TOKEN = "test-token-7f3a9c"
# What the API does with a request is the same on either store: those tests run on SQLite, and the reads of a
# processed file (where the store's queries matter) on both.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def start_api(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., ApiServer]]:
    servers: list[ApiServer] = []

    def start(**variables: str) -> ApiServer:
        server = ApiServer.for_settings(settings, tmp_path, tokens=(TOKEN, "second-token"), **variables)
        servers.append(server)  # stopped even when it fails to start
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(start_api) -> ApiServer:
    return start_api()


def inbox_names(settings: Settings) -> list[str]:
    """Every name in the inbox folder, hidden ones and parts included."""
    return sorted(path.name for path in Path(settings.inbox_dir).iterdir())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@ON_SQLITE
def test_every_route_but_health_and_metrics_needs_one_of_the_tokens(api):
    for token in (None, "wrong-token", TOKEN[:-1]):
        response = api.client(token=token).get("/files")
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.client(token=None).post("/files", content=b"x", headers={"content-type": "text/csv"}
                                       ).status_code == 401
    refused = api.client(token=None).post("/files/presign", content=b"{" * 5_000_000,
                                          headers={"content-type": "application/json"})
    assert refused.status_code == 401  # refused before its body is read, and the connection closed
    assert refused.headers["connection"] == "close"
    assert api.client(token="second-token").get("/files").status_code == 200
    assert api.client().get("/files").status_code == 200
    assert api.client(token=None).get("/health").status_code == 200
    assert api.client(token=None).get("/metrics").status_code == 200


def test_an_upload_lands_in_the_inbox_under_its_sha256_and_registers_under_the_clients_name(api, settings, engine,
                                                                                           tmp_path):
    sample = write_sample_file(tmp_path / "dívidas dezembro.csv", rows=300, seed=3, invalid_rate=0.05)
    data = sample.path.read_bytes()
    with api.client() as client:
        response = client.post("/files", files={"file": ("dívidas dezembro.csv", data, "text/csv")})
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["file_id"] == sha256(data) == sample.file_id
        assert body["status"] == "queued" and body["new"] is True
        assert response.headers["location"] == body["status_url"] == f"/files/{sample.file_id}"
        assert (Path(settings.inbox_dir) / f"{sample.file_id}.csv").read_bytes() == data
        assert not [name for name in inbox_names(settings) if name.endswith(".part")]
        assert client.get(body["status_url"]).json()["status"] == "queued"

        [entry] = scan(settings.inbox_dir)  # the note beside it is hidden: the sensor sees one file
        registration = stages.register_stage(engine, settings, entry)
        assert registration.original_name == "dívidas dezembro.csv"
        assert inbox_names(settings) == []  # the file archived, its note removed

        detail = client.get(f"/files/{sample.file_id[:10]}").json()
        assert detail["status"] == "registered" and detail["original_name"] == "dívidas dezembro.csv"

        again = client.post("/files", files={"file": ("other-name.csv", data, "text/csv")})
        assert again.status_code == 200
        assert again.json()["file_id"] == sample.file_id and again.json()["new"] is False
        assert again.json()["status"] == "registered"
        assert "already received as dívidas dezembro.csv" in again.json()["already_received"]
        assert inbox_names(settings) == []  # known bytes are not written again


@ON_SQLITE
def test_a_raw_csv_body_is_taken_as_a_file_and_a_client_name_never_becomes_a_path(api, settings, tmp_path):
    data = write_sample_file(tmp_path / "a.csv", rows=50, seed=4).path.read_bytes()
    with api.client() as client:
        response = client.post("/files", content=data, params={"name": "../../../tmp/evil.csv"},
                               headers={"content-type": "text/csv"})
        assert response.status_code == 202, response.text
        assert response.json()["original_name"] == "evil.csv"
        other = write_sample_file(tmp_path / "b.csv", rows=50, seed=5).path.read_bytes()
        upload = client.post("/upload", files={"file": ("..\\..\\windows\\evil.csv", other)})
        assert upload.status_code == 202 and upload.json()["original_name"] == "evil.csv"
    published = sorted(name for name in inbox_names(settings) if not name.startswith("."))
    assert published == sorted([f"{sha256(data)}.csv", f"{sha256(other)}.csv"])
    notes = [json.loads((Path(settings.inbox_dir) / name).read_text()) for name in inbox_names(settings)
             if name.startswith(".")]
    assert sorted(note["original_name"] for note in notes) == ["evil.csv", "evil.csv"]
    assert not (tmp_path / "evil.csv").exists() and not Path("/tmp/evil.csv").exists()


@ON_SQLITE
def test_empty_malformed_and_unsupported_uploads_are_refused_and_keep_nothing(api, settings):
    with api.client() as client:
        empty = client.post("/files", content=b"", headers={"content-type": "text/csv"})
        assert (empty.status_code, empty.json()["error"]) == (400, "empty_upload")
        empty_part = client.post("/files", files={"file": ("empty.csv", b"")})
        assert (empty_part.status_code, empty_part.json()["error"]) == (400, "empty_upload")
        no_file = client.post("/files", files={"document": ("debts.csv", b"name\n")})
        assert (no_file.status_code, no_file.json()["error"]) == (400, "no_file_part")
        assert "file" in no_file.json()["message"]
        broken = client.post("/files", content=b"--xyz\r\nnot a part", headers={
            "content-type": "multipart/form-data; boundary=abc"})
        assert broken.status_code == 400 and broken.json()["error"] in ("invalid_request", "no_file_part")
        json_body = client.post("/files", json={"name": "x"})
        assert (json_body.status_code, json_body.json()["error"]) == (415, "unsupported_media_type")
    assert inbox_names(settings) == []


@ON_SQLITE
def test_a_multipart_body_cut_before_its_closing_boundary_is_refused(api, settings, tmp_path):
    data = write_sample_file(tmp_path / "cut.csv", rows=100, seed=11).path.read_bytes()
    request = httpx.Request("POST", "http://x/files", files={"file": ("cut.csv", data)})
    body = request.read()
    with api.client() as client:
        cut = client.post("/files", content=body[:-30], headers={"content-type": request.headers["content-type"]})
        assert (cut.status_code, cut.json()["error"]) == (400, "invalid_request")
        assert "closing boundary" in cut.json()["message"]
        whole = client.post("/files", content=body, headers={"content-type": request.headers["content-type"]})
        assert whole.status_code == 202 and whole.json()["file_id"] == sha256(data)
    assert [name for name in inbox_names(settings) if not name.startswith(".")] == [f"{sha256(data)}.csv"]


@ON_SQLITE
def test_an_upload_over_the_limit_is_413_and_nothing_of_it_is_kept(start_api, settings):
    api = start_api(BILLING_API_MAX_UPLOAD_BYTES="100000")
    header = b"name,governmentId,email,debtAmount,debtDueDate,debtId\n"
    too_large = header + b"x" * 150_000
    with api.client() as client:
        declared = client.post("/files", content=too_large, headers={"content-type": "text/csv"})
        assert (declared.status_code, declared.json()["error"]) == (413, "upload_too_large")
        assert "100,000" in declared.json()["message"]
        assert declared.headers["connection"] == "close"  # the rest of the body is not read

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit is found while reading
            for start in range(0, len(too_large), 16_384):
                yield too_large[start:start + 16_384]

        streamed = client.post("/files", content=chunked(), headers={"content-type": "text/csv"})
        assert (streamed.status_code, streamed.json()["error"]) == (413, "upload_too_large")
        in_form = client.post("/files", files={"file": ("big.csv", too_large)})
        assert in_form.status_code == 413
        fits = client.post("/files", content=header + b"y" * 1000, headers={"content-type": "text/csv"})
        assert fits.status_code == 202
    assert [name for name in inbox_names(settings) if not name.startswith(".")] == [fits.json()["file_id"] + ".csv"]
    assert not [name for name in inbox_names(settings) if name.endswith(".part")]


@ON_SQLITE
def test_a_connection_cut_mid_upload_leaves_nothing_in_the_inbox(api, settings):
    parts_seen: list[str] = []
    with socket.create_connection(("127.0.0.1", api.port)) as connection:
        connection.sendall(b"POST /files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
                           b"\r\nContent-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n")
        connection.sendall(b"name,governmentId,email,debtAmount,debtDueDate,debtId\n" + b"z" * 3_000_000)
        # The part is being written while the connection is open.
        wait_for(lambda: parts_seen.extend(n for n in inbox_names(settings) if n.endswith(".part")) or parts_seen,
                 "the upload's part in the inbox", timeout=30, every=0.05)
    wait_for(lambda: inbox_names(settings) == [], "the part to be removed", timeout=30, every=0.1)
    assert api.client().get("/health").status_code == 200  # the server goes on


@ON_SQLITE
def test_the_same_file_uploaded_five_times_at_once_is_queued_once(api, settings, tmp_path):
    data = write_sample_file(tmp_path / "same.csv", rows=2_000, seed=6).path.read_bytes()
    barrier = threading.Barrier(5)
    responses: list[httpx.Response] = []

    def upload() -> None:
        with api.client() as client:
            barrier.wait()
            responses.append(client.post("/files", files={"file": ("same.csv", data)}))

    threads = [threading.Thread(target=upload) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(response.status_code for response in responses) == [200, 200, 200, 200, 202]
    assert {response.json()["file_id"] for response in responses} == {sha256(data)}
    assert [name for name in inbox_names(settings) if not name.startswith(".")] == [f"{sha256(data)}.csv"]


@ON_SQLITE
def test_unknown_and_malformed_ids_are_json_errors(api):
    with api.client() as client:
        unknown = client.get(f"/files/{'ab' * 32}")
        assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
        assert client.get("/files/ab").json()["error"] == "invalid_request"  # too short a prefix
        assert client.get("/files/not-hex").status_code == 400
        assert client.get(f"/files/{'cd' * 32}/rejects").status_code == 404
        assert client.get(f"/files/{'cd' * 32}/report").status_code == 404
        missing_debt = client.get(f"/debts/{uuid.uuid4()}/boleto")
        assert (missing_debt.status_code, missing_debt.json()["error"]) == (404, "not_found")
        assert client.get(f"/debts/{uuid.uuid4()}/boleto.pdf").status_code == 404
        assert client.get("/debts/12345/boleto").status_code == 400
        assert client.get("/files", params={"status": "exploded"}).json()["error"] == "invalid_request"
        assert client.get("/files", params={"cursor": "x"}).status_code == 400
        assert client.get("/nowhere").json()["error"] == "not_found"


def test_a_processed_file_is_read_back_whole(api, settings, engine, tmp_path):
    first = write_sample_file(tmp_path / "first.csv", rows=400, seed=7, invalid_rate=0.05)
    stored = store_sample(engine, settings, first, through="boleto_pdfs")
    assert stages.finish_file(engine, settings, first.file_id)
    stages.report_stage(engine, settings, first.file_id)
    second = write_sample_file(tmp_path / "second.csv", rows=100, seed=8)
    store_sample(engine, settings, second, through="validated_chunk")  # split, not loaded yet

    with api.client() as client:
        page = client.get("/files", params={"limit": 1}).json()
        assert [item["file_id"] for item in page["files"]] == [second.file_id]  # newest first
        older = client.get("/files", params={"limit": 1, "cursor": page["next_cursor"]}).json()
        assert [item["file_id"] for item in older["files"]] == [first.file_id] and older["next_cursor"] is None
        processed = client.get("/files", params={"status": "processed"}).json()["files"]
        assert [item["file_id"] for item in processed] == [first.file_id]
        assert [item["status"] for item in client.get("/files", params={"status": "split"}).json()["files"]] == [
            "split"]

        detail = client.get(f"/files/{first.file_id[:8]}").json()
        assert (detail["rows"], detail["accepted"], detail["rejected"]) == (400, first.accepted, first.rejected)
        assert [chunk["chunk_key"] for chunk in detail["chunks"]] == stored.chunk_keys
        assert all(chunk["status"] == "loaded" for chunk in detail["chunks"])
        assert sum(detail["reject_codes"].values()) >= first.rejected
        assert detail["report"]["file_id"] == first.file_id
        assert set(detail["notices"]) == {"pending", "sent", "failed", "suppressed"}

        rejects = client.get(detail["rejects_url"])
        assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
        assert rejects.content == Path(settings.rejects_path(first.file_id)).read_bytes()
        assert client.get(detail["report_url"]).json() == detail["report"]

        debt_id = str(boleto_rows(engine, chunk_key=stored.chunk_keys[0])[0].debt_id)
        boleto = client.get(f"/debts/{debt_id.upper()}/boleto").json()
        assert boleto == {**stages.boleto_summary(engine, debt_id), "pdf_url": f"/debts/{debt_id}/boleto.pdf"}
        assert "*" in boleto["payer_document"]
        pdf = client.get(boleto["pdf_url"])
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_health_and_every_read_are_503_json_while_the_store_is_down(tmp_path):
    down = Settings.from_env({}, data_dir=tmp_path / "data",
                             database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    down.ensure_dirs()
    with ApiServer.for_settings(down, tmp_path) as server:
        response = server.client(token=None).get("/health")
        assert response.status_code == 503
        body = response.json()
        assert (body["status"], body["store"], body["inbox"]) == ("unavailable", "down", "ok")
        assert "details with a token" in body["problems"]["store"]  # no host or user to an anonymous probe
        assert "does not answer" in server.client().get("/health").json()["problems"]["store"]
        for response in (server.client().get("/files"), server.client().get(f"/files/{'ab' * 32}"),
                         server.client().post("/files", content=b"a,b\n", headers={"content-type": "text/csv"})):
            assert (response.status_code, response.json()["error"]) == (503, "unavailable")
    assert not [name for name in inbox_names(down) if name.endswith(".part")]


@ON_SQLITE
def test_without_tokens_it_listens_on_loopback_only_and_says_so(settings, tmp_path):
    server = ApiServer(settings_environment(settings), tmp_path, tmp_path / "api.log", host="0.0.0.0")
    with server:
        listening = {connection.laddr.ip for connection in psutil.Process(server.process.pid).net_connections()
                     if connection.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}
        assert server.client(token=None).get("/files").status_code == 200  # open, on loopback
        with server.client(token=None) as client:
            # A web page of another site, or a name rebound to this address, gets nothing from an open API.
            foreign = client.post("/files", content=b"a,b\n", headers={"content-type": "text/plain",
                                                                        "origin": "https://attacker.example"})
            assert (foreign.status_code, foreign.json()["error"]) == (403, "foreign_origin")
            rebound = client.get("/files", headers={"host": "attacker.example"})
            assert (rebound.status_code, rebound.json()["error"]) == (403, "forbidden_host")
            assert client.get("/files", headers={"origin": f"http://localhost:{server.port}"}).status_code == 200
    assert "listening on 127.0.0.1 only" in (tmp_path / "api.log").read_text()
    assert inbox_names(settings) == []


@ON_SQLITE
def test_the_openapi_document_describes_the_routes_with_examples(api):
    with api.client(token=None) as client:
        assert "swagger" in client.get("/docs").text.lower()
        document = client.get("/openapi.json").json()
    for path in ("/files", "/upload", "/files/presign", "/files/{file_id}", "/files/{file_id}/rejects",
                 "/files/{file_id}/report", "/debts/{debt_id}/boleto", "/debts/{debt_id}/boleto.pdf",
                 "/boletos/{debt_id}.pdf", "/health", "/metrics"):
        assert path in document["paths"], path
    upload = document["paths"]["/files"]["post"]
    assert {"multipart/form-data", "text/csv"} <= set(upload["requestBody"]["content"])
    assert {"202", "200", "400", "401", "413"} <= set(upload["responses"])
    assert document["components"]["schemas"]["UploadAccepted"]["examples"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_presign_in_a_bucket_inbox_and_409_in_a_folder(api, s3_bucket, postgres, tmp_path, monkeypatch):
    assert api.client().post("/files/presign", json={"name": "x.csv"}).json()["error"] == "not_a_bucket"
    server, bucket = s3_bucket
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    in_bucket = Settings.from_env(server.env(), data_dir=f"s3://{bucket}/data",
                                  database_url=postgres.create_database())
    engine = stages.open_store(in_bucket)
    environment = {**settings_environment(in_bucket, BILLING_API_TOKENS=TOKEN), **server.env()}
    data = write_sample_file(tmp_path / "big.csv", rows=200, seed=9).path.read_bytes()
    with ApiServer(environment, tmp_path, tmp_path / "bucket-api.log", TOKEN) as bucket_api:
        presigned = bucket_api.client().post("/files/presign", json={"name": "partner/big file.csv"}).json()
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in presigned["url"] and presigned["expires_in"] == 3600
        assert httpx.put(presigned["url"], content=data).status_code == 200
        [entry] = scan(in_bucket.inbox_dir)
        assert str(entry.path) == presigned["key"]
        registration = stages.register_stage(engine, in_bucket, entry)
        assert (registration.file_id, registration.original_name) == (sha256(data), "big file.csv")
        assert server.keys(bucket, "data/inbox/") == []  # the object and its note are gone
        raw = bucket_api.client().post("/files", content=data + b"\n", headers={"content-type": "text/csv"})
        assert raw.status_code == 202
        assert server.keys(bucket, "data/inbox/") == [f"data/inbox/{raw.json()['file_id']}.csv"]  # no part left
    engine.dispose()
