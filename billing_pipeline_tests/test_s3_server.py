"""The S3 server of the tests (support/s3.py, SeaweedFS `weed mini`) behaves as S3 does where Smart Billing relies on
it: objects, ranges, paginated listings, conditional copies, credentials, missing buckets, and a restart."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import s3fs
from botocore.exceptions import ClientError, EndpointConnectionError

from billing_pipeline_tests.support.s3 import S3Server, unique_bucket_name


def error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def filesystem(server: S3Server, **overrides: str) -> s3fs.S3FileSystem:
    """A new s3fs filesystem (no instance cache, so no listing cached from another test)."""
    return s3fs.S3FileSystem(**{**server.storage_options(), **overrides}, skip_instance_cache=True)


def test_put_get_and_ranged_get(s3_bucket):
    server, bucket = s3_bucket
    client = server.client()
    body = bytes(range(256)) * 4096  # 1 MiB
    put = client.put_object(Bucket=bucket, Key="inbox/debts.csv", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'  # a single PUT's ETag: the quoted MD5, as on AWS

    assert client.get_object(Bucket=bucket, Key="inbox/debts.csv")["Body"].read() == body
    ranged = client.get_object(Bucket=bucket, Key="inbox/debts.csv", Range="bytes=1000-1999")
    assert ranged["Body"].read() == body[1000:2000]
    assert ranged["ContentRange"] == f"bytes 1000-1999/{len(body)}"
    assert filesystem(server).cat_file(f"{bucket}/inbox/debts.csv", start=5, end=10) == body[5:10]

    with pytest.raises(ClientError) as missing:
        client.get_object(Bucket=bucket, Key="inbox/nothing.csv")
    assert error_code(missing.value) == "NoSuchKey"


def test_a_listing_of_2500_keys_is_paginated_and_complete(s3_bucket):
    server, bucket = s3_bucket
    client = server.client()
    keys = {f"chunks/{n:05d}.parquet" for n in range(2500)}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"x"), sorted(keys)))

    pages = list(client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="chunks/"))
    assert len(pages) == 3  # 1000 keys a page at most
    assert {item["Key"] for page in pages for item in page["Contents"]} == keys

    listed = filesystem(server).ls(f"{bucket}/chunks/", detail=False)
    assert {name.removeprefix(f"{bucket}/") for name in listed} == keys


def test_copy_if_the_source_etag_matches(s3_bucket):
    server, bucket = s3_bucket
    client = server.client()
    etag = client.put_object(Bucket=bucket, Key="archive/a.csv", Body=b"debts")["ETag"]

    def copy(if_match: str) -> dict:
        return client.copy_object(Bucket=bucket, Key="claimed/a.csv", CopySourceIfMatch=if_match,
                                  CopySource={"Bucket": bucket, "Key": "archive/a.csv"})

    with pytest.raises(ClientError) as refused:
        copy('"00000000000000000000000000000000"')
    assert error_code(refused.value) == "PreconditionFailed"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="claimed/")

    copied = copy(etag)
    # SeaweedFS answers the copy's ETag without the quotes AWS puts around it: compare them stripped.
    assert copied["CopyObjectResult"]["ETag"].strip('"') == etag.strip('"')
    assert client.get_object(Bucket=bucket, Key="claimed/a.csv")["Body"].read() == b"debts"


def test_wrong_credentials_are_refused(s3_bucket):
    server, bucket = s3_bucket
    server.client().put_object(Bucket=bucket, Key="k", Body=b"x")
    for access_key, secret_key, expected in [(server.access_key, "not-the-secret", "SignatureDoesNotMatch"),
                                             ("AKNOBODY", server.secret_key, "InvalidAccessKeyId")]:
        impostor = server.client(max_attempts=1, credentials=(access_key, secret_key))
        for operation, arguments in [("list_buckets", {}), ("list_objects_v2", {"Bucket": bucket}),
                                     ("put_object", {"Bucket": bucket, "Key": "k", "Body": b"forged"})]:
            with pytest.raises(ClientError) as refused:
                getattr(impostor, operation)(**arguments)
            assert error_code(refused.value) == expected
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        with pytest.raises(PermissionError):  # s3fs translates both codes to PermissionError
            filesystem(server, key=access_key, secret=secret_key).ls(bucket)
    assert server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_a_missing_bucket_is_no_such_bucket_even_for_a_put(s3_server):
    client = s3_server.client()
    bucket = unique_bucket_name("missing")
    with pytest.raises(ClientError) as listing:
        client.list_objects_v2(Bucket=bucket)
    assert error_code(listing.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as put:  # SeaweedFS would create it, but for -s3.autoCreateBucket=false
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_code(put.value) == "NoSuchBucket"
    with pytest.raises(FileNotFoundError):
        filesystem(s3_server).ls(bucket)
    assert bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}


def test_the_environment_serves_a_child_process(s3_bucket):
    server, bucket = s3_bucket
    server.client().put_object(Bucket=bucket, Key="k", Body=b"from the parent")
    script = ("import sys, boto3; "
              "print(boto3.client('s3').get_object(Bucket=sys.argv[1], Key='k')['Body'].read().decode())")
    done = subprocess.run([sys.executable, "-c", script, bucket], env=server.env() | {"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "from the parent"


def test_objects_survive_a_stop_and_a_start(s3_bucket):
    server, bucket = s3_bucket
    client = server.client()
    body = b"kept" * 100_000
    client.put_object(Bucket=bucket, Key="archive/kept.csv", Body=body)
    port = server.port

    server.stop()
    assert not server.running
    with pytest.raises(EndpointConnectionError):
        server.client(connect_timeout=1, max_attempts=1).list_buckets()

    server.start()
    assert server.port == port
    assert client.get_object(Bucket=bucket, Key="archive/kept.csv")["Body"].read() == body
    client.put_object(Bucket=bucket, Key="archive/after.csv", Body=b"y")
    assert {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]} == {"archive/kept.csv",
                                                                                     "archive/after.csv"}
