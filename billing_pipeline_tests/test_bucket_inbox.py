"""The inbox in a bucket, on a real S3-compatible server (SeaweedFS): the sensor's decisions, evaluated directly, and
the registration's order (archive copy, store row, inbox delete) under deletes, replacements and crashes."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest
import s3fs
from sqlalchemy import func, select

from billing_pipeline import stages
from billing_pipeline.defs.ingest.sensors import inbox_sensor
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.ingest import inbox
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.stages import register_stage
from billing_pipeline.store import files as registry
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline.store.tables import file_receipts, source_files

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def bucket_settings(s3_bucket, database_url, monkeypatch) -> Settings:
    """Settings on a fresh bucket, the server's credentials in the environment as a deployment sets them."""
    server, bucket = s3_bucket
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()  # a cached client would keep another test's credentials
    yield Settings.from_env({}, data_dir=f"s3://{bucket}/data", database_url=database_url)
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def store(bucket_settings):
    engine = create_store_engine(bucket_settings.database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _put(server, bucket: str, key: str, body: bytes) -> None:
    server.client().put_object(Bucket=bucket, Key=key, Body=body)



def _tick(instance, settings: Settings, cursor: str | None = None):
    with dg.build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"billing": BillingResource.of(settings)},
    ) as context:
        return inbox_sensor(context)


def _poll_again(cursor: str) -> str:
    return json.dumps({**json.loads(cursor), "looked_at_ns": 0})


def _sample(tmp_path, rows: int = 20, seed: int = 1) -> bytes:
    path = tmp_path / f"sample-{seed}.csv"
    write_sample(path, rows=rows, seed=seed)
    return path.read_bytes()


def test_objects_are_taken_on_the_first_look_archived_by_server_side_copy_and_removed(
        s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    first, second = _sample(tmp_path, seed=1), _sample(tmp_path, seed=2)
    # Two objects that land in the same second: a LastModified cursor with `>` would skip one.
    _put(server, bucket, "data/inbox/a.csv", first)
    _put(server, bucket, "data/inbox/b.csv", second)
    _put(server, bucket, "data/inbox/c.csv.part", b"name,")
    _put(server, bucket, "data/inbox/.hidden.csv", b"name,")
    _put(server, bucket, "data/inbox/retorno/x.ret", b"not ours yet")

    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
        assert len(result.run_requests) == 2
        ids = {request.partition_key for request in result.run_requests}
        assert server.keys(bucket, "data/inbox/") == [
            "data/inbox/.hidden.csv", "data/inbox/c.csv.part", "data/inbox/retorno/x.ret"]
        for file_id in ids:
            archived = server.client().get_object(Bucket=bucket, Key=f"data/archive/{file_id}.csv")["Body"].read()
            assert archived in (first, second)
        again = _tick(instance, bucket_settings, _poll_again(result.cursor))
        assert again.run_requests == [] and again.skip_reason.skip_message == "inbox empty"


def test_an_emptied_inbox_prefix_is_empty_not_a_file_of_its_name(s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/debts.csv", _sample(tmp_path))
    with dg.instance_for_test() as instance:
        first = _tick(instance, bucket_settings)
        assert len(first.run_requests) == 1 and server.keys(bucket, "data/inbox/") == []
        # SeaweedFS then lists the prefix itself as a zero-byte object named `inbox`
        again = _tick(instance, bucket_settings, _poll_again(first.cursor))
    assert again.run_requests == [] and again.skip_reason.skip_message == "inbox empty"
    with store.connect() as connection:
        assert connection.execute(select(source_files.c.original_name)).scalars().all() == ["debts.csv"]


def test_redropped_bytes_in_the_bucket_start_nothing_and_are_recorded(s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    body = _sample(tmp_path)
    _put(server, bucket, "data/inbox/debts.csv", body)
    with dg.instance_for_test() as instance:
        first = _tick(instance, bucket_settings)
        assert len(first.run_requests) == 1
        _put(server, bucket, "data/inbox/debts-again.csv", body)
        second = _tick(instance, bucket_settings, _poll_again(first.cursor))
    assert second.run_requests == []
    assert "debts-again.csv: already received as debts.csv" in second.skip_reason.skip_message
    [observation] = second.asset_events
    assert observation.partition == first.run_requests[0].partition_key
    assert server.keys(bucket, "data/inbox/") == []
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(source_files)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(file_receipts)).scalar_one() == 2


def test_a_long_listing_is_read_to_its_last_page(s3_bucket, bucket_settings):
    server, bucket = s3_bucket
    client = server.client()
    for number in range(1_500):  # S3 pages hold 1,000 keys
        client.put_object(Bucket=bucket, Key=f"data/inbox/f{number:05d}.csv", Body=b"x")
    names = sorted(entry.path.name for entry in inbox.scan(bucket_settings.inbox_dir))
    assert names == [f"f{number:05d}.csv" for number in range(1_500)]


def test_an_object_deleted_while_it_is_registered_leaves_no_registration(s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/gone.csv", _sample(tmp_path))
    [entry] = inbox.scan(bucket_settings.inbox_dir)
    server.client().delete_object(Bucket=bucket, Key="data/inbox/gone.csv")  # after the listing, before the read
    with pytest.raises(FileNotFoundError):
        register_stage(store, bucket_settings, entry)
    assert server.keys(bucket, "data/") == []
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(source_files)).scalar_one() == 0


def test_an_object_replaced_while_it_is_registered_is_not_archived_under_the_wrong_hash(
        s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/debts.csv", _sample(tmp_path, seed=1))
    [entry] = inbox.scan(bucket_settings.inbox_dir)
    _put(server, bucket, "data/inbox/debts.csv", _sample(tmp_path, seed=2))  # a new upload under the same key
    with pytest.raises(FileNotFoundError):
        register_stage(store, bucket_settings, entry)
    assert server.keys(bucket, "data/archive/") == []
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(source_files)).scalar_one() == 0
    [fresh] = inbox.scan(bucket_settings.inbox_dir)  # the next look takes the new bytes
    registration = register_stage(store, bucket_settings, fresh)
    assert registration.new and server.keys(bucket, "data/inbox/") == []


def test_the_sensor_skips_an_object_taken_away_mid_tick_and_goes_on(s3_bucket, bucket_settings, store, tmp_path,
                                                                     monkeypatch):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/a.csv", _sample(tmp_path, seed=1))
    _put(server, bucket, "data/inbox/b.csv", _sample(tmp_path, seed=2))
    real_scan = inbox.scan

    def scan_then_lose_a(folder):
        entries = real_scan(folder)
        server.client().delete_object(Bucket=bucket, Key="data/inbox/a.csv")
        return entries

    monkeypatch.setattr(inbox, "scan", scan_then_lose_a)
    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
    assert len(result.run_requests) == 1
    with store.connect() as connection:
        assert connection.execute(select(source_files.c.original_name)).scalars().all() == ["b.csv"]


def test_a_crash_after_the_archive_copy_registers_the_object_once_at_the_next_look(
        s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/debts.csv", _sample(tmp_path))
    [entry] = inbox.scan(bucket_settings.inbox_dir)
    file_id = inbox.sha256_of(entry.path)
    inbox.copy_to_archive(entry, bucket_settings.archive_path(file_id))  # then the sensor died
    [again] = inbox.scan(bucket_settings.inbox_dir)
    registration = register_stage(store, bucket_settings, again)
    assert registration.new and registration.file_id == file_id
    assert server.keys(bucket, "data/inbox/") == []


def test_a_crash_after_the_store_row_completes_the_same_arrival_not_a_redrop(
        s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/debts.csv", _sample(tmp_path))
    [entry] = inbox.scan(bucket_settings.inbox_dir)
    file_id = inbox.sha256_of(entry.path)
    inbox.copy_to_archive(entry, bucket_settings.archive_path(file_id))
    registry.register_file(store, file_id, entry.path.name, entry.size, object_version=entry.version)
    # ... and the sensor died before deleting the inbox object: the next look finds the same object.
    [again] = inbox.scan(bucket_settings.inbox_dir)
    registration = register_stage(store, bucket_settings, again)
    assert registration.new  # no re-drop: no observation, no second receipt
    assert server.keys(bucket, "data/inbox/") == []
    assert len(registry.file_receipts_of(store, file_id)) == 1


def test_a_missing_bucket_is_one_clear_sentence_in_the_sensor_tick(s3_bucket, bucket_settings, store):
    missing = bucket_settings.replace(data_dir="s3://no-such-bucket-here/data")
    with dg.instance_for_test() as instance:
        result = _tick(instance, missing)
        again = _tick(instance, missing, _poll_again(result.cursor))
    for tick in (result, again):
        assert tick.run_requests == []
        assert tick.skip_reason.skip_message.startswith("cannot read the inbox: bucket no-such-bucket-here does not exist at "
                                           "http://127.0.0.1:")


def test_refused_credentials_are_one_clear_sentence_in_the_sensor_tick(s3_bucket, bucket_settings, store,
                                                                       monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    s3fs.S3FileSystem.clear_instance_cache()
    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
    assert result.run_requests == []
    assert "refused access to s3://" in result.skip_reason.skip_message
    assert "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in result.skip_reason.skip_message


@pytest.mark.parametrize("problem, expected", [
    ("bucket", "error: bucket no-such-bucket-here does not exist at http://127.0.0.1:"),
    ("secret", "refused access to s3://"),
])
def test_the_cli_says_what_is_wrong_with_the_bucket_in_one_line(problem, expected, s3_bucket, bucket_settings,
                                                                 store, tmp_path, monkeypatch, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=5, seed=1)
    monkeypatch.setenv("BILLING_DATABASE_URL", bucket_settings.database_url)
    monkeypatch.setenv("BILLING_DATA_DIR", "s3://no-such-bucket-here/data" if problem == "bucket"
                       else str(bucket_settings.data_dir))
    if problem == "secret":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    s3fs.S3FileSystem.clear_instance_cache()
    run = cli("submit", str(source), json=False, check=False)
    assert run.status == 2
    assert expected in run.err and "Traceback" not in run.err and len(run.err.strip().splitlines()) == 1


def test_keys_with_glob_characters_are_archived_exactly(s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    bodies = {"debts[1].csv": _sample(tmp_path, seed=1), "a*.csv": _sample(tmp_path, seed=2),
              "ab?.csv": _sample(tmp_path, seed=3), "abc.csv": _sample(tmp_path, seed=4)}
    for name, body in bodies.items():
        _put(server, bucket, f"data/inbox/{name}", body)
    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
    assert len(result.run_requests) == 4 and server.keys(bucket, "data/inbox/") == []
    for request in result.run_requests:
        assert server.object_bytes(bucket, f"data/archive/{request.partition_key}.csv") in bodies.values()
    assert len(server.keys(bucket, "data/archive/")) == 4



def test_a_new_upload_under_the_same_key_during_registration_stays_for_the_next_look(
        s3_bucket, bucket_settings, store, tmp_path, monkeypatch):
    server, bucket = s3_bucket
    first, second = _sample(tmp_path, seed=1), _sample(tmp_path, seed=2)
    _put(server, bucket, "data/inbox/debts.csv", first)
    real_register = registry.register_file

    def register_then_upload_again(*args, **kwargs):
        arrival = real_register(*args, **kwargs)
        _put(server, bucket, "data/inbox/debts.csv", second)  # the partner uploads again, before the delete
        return arrival

    monkeypatch.setattr("billing_pipeline.stages.register.registry.register_file", register_then_upload_again)
    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
        assert len(result.run_requests) == 1
        assert server.object_bytes(bucket, "data/inbox/debts.csv") == second  # not deleted with the first
        monkeypatch.setattr("billing_pipeline.stages.register.registry.register_file", real_register)
        again = _tick(instance, bucket_settings, _poll_again(result.cursor))
    assert len(again.run_requests) == 1 and server.keys(bucket, "data/inbox/") == []


def test_the_same_bytes_uploaded_again_under_the_same_name_are_a_redrop(s3_bucket, bucket_settings, store, tmp_path):
    server, bucket = s3_bucket
    body = _sample(tmp_path)
    _put(server, bucket, "data/inbox/debts.csv", body)
    with dg.instance_for_test() as instance:
        first = _tick(instance, bucket_settings)
        time.sleep(1.1)  # a later upload: LastModified has whole seconds
        _put(server, bucket, "data/inbox/debts.csv", body)
        second = _tick(instance, bucket_settings, _poll_again(first.cursor))
    assert second.run_requests == [] and len(second.asset_events) == 1
    assert "debts.csv: already received as debts.csv" in second.skip_reason.skip_message


def test_an_object_the_store_refuses_does_not_hold_up_the_others(s3_bucket, bucket_settings, store, tmp_path,
                                                                 monkeypatch):
    server, bucket = s3_bucket
    _put(server, bucket, "data/inbox/a-refused.csv", _sample(tmp_path, seed=1))
    _put(server, bucket, "data/inbox/b.csv", _sample(tmp_path, seed=2))
    real_register = stages.register_stage

    def refuse_a(engine, settings, entry, *args, **kwargs):
        if entry.path.name == "a-refused.csv":
            raise stages.StorageUnavailable("the store refused access to a-refused.csv (AccessDenied)")
        return real_register(engine, settings, entry, *args, **kwargs)

    monkeypatch.setattr(stages, "register_stage", refuse_a)
    with dg.instance_for_test() as instance:
        result = _tick(instance, bucket_settings)
        [request] = result.run_requests
        assert request.tags["billing/original_name"] == "b.csv"
        again = _tick(instance, bucket_settings, _poll_again(result.cursor))
    assert again.run_requests == []
    assert again.skip_reason.skip_message == ("cannot take a-refused.csv: the store refused access to "
                                              "a-refused.csv (AccessDenied)")


def test_a_bucket_inbox_with_the_data_on_local_disk_downloads_the_archive_whole(
        s3_bucket, bucket_settings, database_url, tmp_path):
    server, bucket = s3_bucket
    local = Settings.from_env({}, data_dir=tmp_path / "data", inbox=f"s3://{bucket}/partner",
                              database_url=database_url)
    upgrade(engine := create_store_engine(local.database_url))
    body = _sample(tmp_path)
    _put(server, bucket, "partner/debts.csv", body)
    with dg.instance_for_test() as instance:
        [request] = _tick(instance, local).run_requests
    assert local.archive_path(request.partition_key).read_bytes() == body
    assert server.keys(bucket, "partner/") == []
    assert [p.name for p in local.archive_dir.iterdir()] == [f"{request.partition_key}.csv"]  # no partial left
    engine.dispose()
