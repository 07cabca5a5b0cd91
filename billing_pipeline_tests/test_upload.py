"""ingest/upload.py: an HTTP upload written into the inbox as a hidden part, published under its sha256 with its
client name in a note, or discarded; and the inbox taking a published upload at the sensor's first look."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from upath import UPath

from billing_pipeline.ingest.inbox import scan, stable
from billing_pipeline.ingest.upload import (
    PartialUpload,
    UploadTooLarge,
    original_name_of,
    presigned_upload,
    remove_stale_parts,
)


@pytest.fixture
def inbox(tmp_path) -> UPath:
    return UPath(tmp_path / "inbox")


def names(inbox: UPath) -> list[str]:
    return sorted(path.name for path in inbox.iterdir())


def test_a_slow_clients_thousands_of_small_blocks_are_written_whole(inbox):
    blocks = [os.urandom(300) for _ in range(5_000)]  # more pieces than one writev takes (IOV_MAX, 1024)
    upload = PartialUpload(inbox, 10 << 20)
    upload.admit(blocks)
    upload.digest(blocks)
    upload.store(blocks)
    assert upload.publish("slow.csv")
    data = b"".join(blocks)
    assert (inbox / f"{hashlib.sha256(data).hexdigest()}.csv").read_bytes() == data
    assert original_name_of(inbox / f"{upload.file_id}.csv") == "slow.csv"


def test_the_same_bytes_are_published_once_and_a_discarded_upload_leaves_nothing(inbox):
    first, second = PartialUpload(inbox, 100), PartialUpload(inbox, 100)
    for upload in (first, second):
        upload.write(b"a,b\n1,2\n")
    assert first.publish("one.csv") is True
    assert second.publish("two.csv") is False
    assert names(inbox) == [f".{first.file_id}.csv.upload.json", f"{first.file_id}.csv"]
    third = PartialUpload(inbox, 100)
    third.write(b"x" * 60)
    with pytest.raises(UploadTooLarge):
        third.admit([b"x" * 41])
    third.discard()
    assert names(inbox) == [f".{first.file_id}.csv.upload.json", f"{first.file_id}.csv"]


def test_a_published_upload_is_taken_at_the_first_look_with_its_own_time(inbox):
    upload = PartialUpload(inbox, 100)
    upload.write(b"a,b\n")
    upload.publish(None)
    [entry] = scan(inbox)
    assert abs(entry.mtime_ns - time.time_ns()) < 60 * 10**9  # not back-dated: the backlog's age is true
    assert stable([entry], {}, time.time_ns(), settle_seconds=3600) == [entry]  # whole when it appears
    (inbox / "dropped.csv").write_bytes(b"a,b\n")
    dropped = [e for e in scan(inbox) if e.path.name == "dropped.csv"]
    assert stable(dropped, {}, time.time_ns(), settle_seconds=3600) == []  # a dropped file still settles first


def test_parts_and_notes_left_behind_are_removed_after_a_day(inbox):
    waiting = PartialUpload(inbox, 100)
    waiting.write(b"a,b\n")
    waiting.publish("waiting.csv")
    abandoned = PartialUpload(inbox, 100)
    abandoned.write(b"half")
    unused = presigned_upload(inbox, "never-sent.csv")
    assert remove_stale_parts(inbox) == 0  # all fresh
    assert remove_stale_parts(inbox, now=time.time() + 2 * 86_400) == 2  # the part and the unused URL's note
    assert names(inbox) == [f".{waiting.file_id}.csv.upload.json", f"{waiting.file_id}.csv"]
    assert not unused.exists()
