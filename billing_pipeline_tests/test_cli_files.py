"""`billing files` and `billing files show` on real runs, and a file id (or a prefix of it) that names no file, or
several, refused with exit status 2 by every command that takes one; a debt id without a boleto too."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from billing_pipeline.sample import write_sample

UNKNOWN_FILE_ID = "0" * 64  # a sha256 no test file has


@pytest.fixture
def processed(billing_env, tmp_path, cli):
    """A file processed to the end, received again under another name, then a file rejected whole."""
    source = tmp_path / "debts.csv"
    write_sample(source, rows=40, seed=3, invalid_rate=0.1)
    first = cli("process", source).json
    again = tmp_path / "debts-again.csv"
    again.write_bytes(source.read_bytes())
    cli("process", again)
    bad = tmp_path / "bad.csv"
    bad.write_text("name;governmentId;email\nAna;1;a@example.com\nBia;2;b@example.com\n", encoding="utf-8")
    rejected = cli("process", bad, check=False).json
    return first, rejected


def test_files_lists_every_file_newest_first_with_its_numbers_arrivals_and_notices(processed, cli):
    first, rejected = processed

    listed = cli("files").json

    assert [f["file_id"] for f in listed] == [rejected["file_id"], first["file_id"]]
    debts, bad = listed[1], listed[0]
    assert (debts["original_name"], debts["status"], debts["received_via"]) == ("debts.csv", "processed", "process")
    assert debts["received_again"] == 1  # debts-again.csv: the same bytes
    assert {k: debts[k] for k in ("rows", "accepted", "rejected", "duplicates")} == {
        k: first[k] for k in ("rows", "accepted", "rejected", "duplicates")}
    assert debts["notices"] == {"pending": 0, "sent": first["accepted"], "failed": 0, "suppressed": 0}
    assert (bad["status"], bad["error_code"], bad["received_again"]) == ("rejected", "MISSING_COLUMNS", 0)
    assert bad["notices"] == {"pending": 0, "sent": 0, "failed": 0, "suppressed": 0}


def test_files_prints_an_aligned_table_by_default(processed, cli):
    first, rejected = processed

    header, *rows = cli("files", json=False).out.splitlines()

    assert len(rows) == 2
    assert rows[0].endswith("bad.csv") and rows[1].endswith("debts.csv")
    column = header.index("file id")
    assert [row[column:column + 12] for row in rows] == [rejected["file_id"][:12], first["file_id"][:12]]
    sent_ends = header.index("sent") + len("sent")  # numbers are right-aligned under their heading
    assert rows[1][:sent_ends].endswith(f" {first['accepted']}")


def test_files_status_lists_only_the_files_in_that_status(processed, cli):
    first, rejected = processed

    assert [f["file_id"] for f in cli("files", "--status", "rejected").json] == [rejected["file_id"]]
    assert [f["file_id"] for f in cli("files", "--status", "processed").json] == [first["file_id"]]
    assert cli("files", "--status", "split", json=False).out == "no split files\n"
    refused = cli("files", "--status", "done", check=False)
    assert refused.status == 2 and "invalid choice: 'done'" in refused.err


def test_files_show_by_full_id_and_by_prefix_is_the_same_file_in_detail(processed, cli, billing_env):
    first, _ = processed
    file_id = first["file_id"]

    shown = cli("files", "show", file_id).json

    assert cli("files", "show", file_id[:4]).json == shown
    assert cli("files", "show", file_id[:9].upper()).json == shown
    detail = shown["detail"]
    assert detail["summary"]["file_id"] == file_id
    assert [(r["original_name"], r["received_via"]) for r in detail["receipts"]] == [
        ("debts.csv", "process"), ("debts-again.csv", "process")]
    [chunk] = detail["chunks"]
    assert (chunk["chunk_no"], chunk["first_line"], chunk["last_line"], chunk["rows"], chunk["status"]) == (
        0, 2, 41, 40, "loaded")
    assert (chunk["accepted"], chunk["rejected"], chunk["duplicates"]) == (first["accepted"], first["rejected"], 0)
    assert sum(detail["reject_codes"].values()) >= first["rejected"]  # a line may carry several codes
    assert detail["summary"]["notices"]["sent"] == first["accepted"]
    assert shown["rejects"] == {"path": str(billing_env.rejects_path(file_id)), "written": True}
    assert shown["report"] == {"path": str(billing_env.report_path(file_id)), "written": True}
    assert shown["archive"] == {"path": str(billing_env.archive_path(file_id)), "written": True}

    text = cli("files", "show", file_id[:6], json=False).out
    assert f"sha256: {file_id}" in text
    assert "received 2 times:" in text
    assert f"{file_id[:12]}-0000   0  2-41" in text


def test_files_show_gives_a_rejected_files_error_and_says_which_outputs_are_not_written_yet(
        billing_env, tmp_path, cli):
    bad = tmp_path / "bad.csv"
    bad.write_text("name;governmentId;email\nAna;1;a@example.com\nBia;2;b@example.com\n", encoding="utf-8")
    rejected = cli("process", bad, check=False).json
    partial = tmp_path / "partial.csv"
    write_sample(partial, rows=5, seed=4)
    stopped = cli("process", partial, "--until", "debts").json

    text = cli("files", "show", rejected["file_id"], json=False).out
    assert "error: MISSING_COLUMNS: header lacks" in text
    assert "reject codes: MISSING_COLUMNS 2" in text  # its two rows, rejected with it, as its report counts them

    shown = cli("files", "show", stopped["file_id"]).json
    assert shown["report"]["written"] is False  # written once the file's notices are settled
    assert shown["detail"]["chunks"][0]["status"] == "loaded"
    text = cli("files", "show", stopped["file_id"], json=False).out
    assert f"{billing_env.report_path(stopped['file_id'])}  (not written yet)" in text


def _two_files_sharing_a_prefix(folder: Path) -> tuple[Path, Path, str]:
    """Two valid files whose sha256 start with the same 4 hex digits (~300 candidates hashed: milliseconds)."""
    template = folder / "template.csv"
    write_sample(template, rows=2, seed=5)
    header, *rows = template.read_text(encoding="utf-8").splitlines()
    seen: dict[str, bytes] = {}
    for number in range(100_000):
        content = "\n".join([header, *rows, ""]).replace(rows[0].split(",")[0], f"Cliente {number}", 1).encode()
        prefix = hashlib.sha256(content).hexdigest()[:4]
        if prefix in seen:
            first, second = folder / "first.csv", folder / "second.csv"
            first.write_bytes(seen[prefix])
            second.write_bytes(content)
            return first, second, prefix
        seen[prefix] = content
    raise AssertionError("no two candidates share a prefix")


def test_an_ambiguous_prefix_exits_2_saying_how_many_files_match(billing_env, tmp_path, cli):
    first, second, prefix = _two_files_sharing_a_prefix(tmp_path)
    cli("process", first, "--until", "source_file")
    cli("process", second, "--until", "source_file")

    for command in (["files", "show", prefix], ["outbox", "--file", prefix], ["notify", "--file", prefix]):
        refused = cli(*command, json=False, check=False)
        assert refused.status == 2, command
        assert refused.err == f"error: '{prefix}' matches 2 files: give more digits of the file id\n"
        assert refused.out == ""


def test_a_prefix_shorter_than_4_hex_digits_is_refused_saying_so(processed, cli):
    first, _ = processed

    refused = cli("files", "show", first["file_id"][:3], check=False)

    assert refused.status == 2
    assert refused.err == (f"error: '{first['file_id'][:3]}' is too short: a file id prefix needs at least 4 hex "
                           "digits\n")
    not_hex = cli("outbox", "--file", "debts.csv", check=False)
    assert not_hex.status == 2 and not_hex.err.startswith("error: 'debts.csv' is not a file id")


@pytest.mark.parametrize("command", [["files", "show"], ["outbox", "--file"], ["notify", "--file"]])
@pytest.mark.parametrize("unknown", [UNKNOWN_FILE_ID, UNKNOWN_FILE_ID[:8]], ids=["full-id", "prefix"])
def test_an_unknown_file_id_exits_2_with_one_line_naming_it(billing_env, cli, command, unknown):
    refused = cli(*command, unknown, json=False, check=False)

    assert refused.status == 2
    assert refused.err == f"error: no file with id '{unknown}' in the store\n"
    assert refused.out == ""


def test_outbox_and_notify_take_a_unique_prefix_of_the_file_id(processed, cli):
    first, _ = processed
    prefix = first["file_id"][:5]

    assert cli("outbox", "--file", prefix).json == {"pending": 0, "sent": first["accepted"], "failed": 0,
                                                     "suppressed": 0}
    assert cli("notify", "--file", prefix, json=False).out.startswith("sent 0, failed 0, suppressed 0, still pending 0")


@pytest.mark.parametrize("command", [["boleto", "show"], ["boleto", "pdf"]])
def test_a_debt_id_without_a_boleto_exits_2_with_one_line_naming_it(processed, cli, tmp_path, command):
    unknown = str(uuid.UUID(int=1))
    output = ["-o", str(tmp_path / "boleto.pdf")] if command[1] == "pdf" else []

    refused = cli(*command, unknown, *output, json=False, check=False)

    assert refused.status == 2
    assert refused.err == (f"error: no boleto for debt {unknown}: is the debt loaded and its chunk past "
                           "`boletos`?\n")
    assert not (tmp_path / "boleto.pdf").exists()
    malformed = cli(*command, "not-a-uuid", *output, json=False, check=False)
    assert (malformed.status, malformed.err) == (2, "error: 'not-a-uuid' is not a debtId (a UUID)\n")
