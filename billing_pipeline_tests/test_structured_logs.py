"""BILLING_LOG_FORMAT=json: billing_pipeline/structured_logs.py (the JSON line, the masking, the entrypoints' and
uvicorn's logging) and defs/loggers.py (the runs' console logger), down to a real run's stderr."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import dagster as dg
import pytest
import yaml
from dagster import _loggers as dagster_loggers
from dagster._core.execution import context_creation_job, host_mode

from billing_pipeline import stages
from billing_pipeline.definitions import defs
from billing_pipeline.defs.ingest.assets import source_file
from billing_pipeline.defs.loggers import json_lines_logger, run_loggers
from billing_pipeline.defs.partitions import chunk_partitions, source_file_partitions
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.settings import Settings
from billing_pipeline.structured_logs import (
    JsonLineFormatter,
    configure_logging,
    mask_personal_data,
    uvicorn_log_config,
)
from billing_pipeline_tests.support.in_process import instance_with_partitions, materialize
from billing_pipeline_tests.support.paths import PROJECT_ROOT
from billing_pipeline_tests.support.ports import free_port

FILE_ID = "3cf274232d5a869931b2189b1e15d1fe8cd09c338d0b6e7e80f889e7d6dc9e3c"
CHUNK = "3cf274232d5a-0001"


def _line(**attributes: object) -> dict:
    record = logging.makeLogRecord({"name": "billing_pipeline.api", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "hello", **attributes})
    text = JsonLineFormatter().format(record)
    assert "\n" not in text
    return json.loads(text)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# --- the line ------------------------------------------------------------------------------------------------------
def test_a_line_has_utc_timestamp_level_logger_message_and_the_context_it_carries():
    line = _line(msg="chunk %s stored", args=(CHUNK,), created=1_780_000_000.25, file_id=FILE_ID, chunk=CHUNK,
                 run_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", step="debts", rows=100)

    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    assert line["timestamp"] == "2026-05-28T20:26:40.250Z"
    assert datetime.fromisoformat(line["timestamp"]).tzinfo == UTC
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "billing_pipeline.api", f"chunk {CHUNK} stored")
    assert line["file_id"] == FILE_ID and line["chunk"] == CHUNK and line["step"] == "debts"
    assert line["run_id"] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert line["rows"] == 100  # any other extra= field too


def test_a_line_carries_no_context_it_does_not_know():
    assert set(_line()) == {"timestamp", "level", "logger", "message"}


def test_an_exception_is_one_exc_info_string_on_the_same_line_and_masked(capsys):
    logger = logging.Logger("billing_pipeline.test")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    try:
        raise ValueError("no debtor 529.982.247-25\nsecond line")
    except ValueError:
        logger.exception("upload from ana@example.com failed")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "ERROR" and line["message"] == "upload from a***@example.com failed"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: no debtor ***.982.247-**\nsecond line" in line["exc_info"]
    assert "529.982.247-25" not in lines[0]


def test_extra_strings_are_masked_too():
    line = _line(email="maria.silva@example.com.br", payer={"document": "11222333000181"})
    assert line["email"] == "m***@example.com.br"
    assert line["payer"] == {"document": "**.222.333/0001-**"}


# --- masking -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "masked"), [
    ("cpf 529.982.247-25", "cpf ***.982.247-**"),
    ("cpf 52998224725.", "cpf ***.982.247-**."),
    ("cpf 529982247-25", "cpf ***.982.247-**"),
    ("cpf 529.982.24725", "cpf ***.982.247-**"),
    ("cnpj 11.222.333/0001-81", "cnpj **.222.333/0001-**"),
    ("cnpj:11222333000181,", "cnpj:**.222.333/0001-**,"),
    ("cnpj 11222333/0001-81", "cnpj **.222.333/0001-**"),
    ("cnpj 11222333000181", "cnpj **.222.333/0001-**"),
    ("cnpj 12.ABC.345/01DE-35", "cnpj **.ABC.345/01DE-**"),
    ("cnpj 12.abc.345/01de-35", "cnpj **.ABC.345/01DE-**"),
    ("cnpj 12ABC34501DE35", "cnpj **.ABC.345/01DE-**"),
    ("cnpj 12ABC345/01DE-35", "cnpj **.ABC.345/01DE-**"),
    ("to joao.silva+boleto@mail.example.com.br", "to j***@mail.example.com.br"),
    ("<a@example.com>", "<a***@example.com>"),
    ("row 7: governmentId 529.982.247-25, email ana@example.com",
     "row 7: governmentId ***.982.247-**, email a***@example.com"),
])
def test_cpf_cnpj_and_email_addresses_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    # A reject's raw line: a comma or a dot next to the id, with a digit beyond it, leaves it a token of its own.
    ("Ana,123.45,52998224725,ana@x.com", "Ana,123.45,***.982.247-**,a***@x.com"),
    ("52998224725,11144477735", "***.982.247-**,***.444.777-**"),
    ("Ana;11222333000181;11.605,47", "Ana;**.222.333/0001-**;11.605,47"),
    ('"Ana","52998224725","11222333000181"', '"Ana","***.982.247-**","**.222.333/0001-**"'),
    ("'52998224725'", "'***.982.247-**'"),
    ("[52998224725]", "[***.982.247-**]"),
    ("cpf_52998224725", "cpf_***.982.247-**"),
    # A decimal number whose whole part is a CPF that verifies: masked, on the safe side.
    ("12345678909.50", "***.456.789-**.50"),
])
def test_ids_in_csv_rows_and_next_to_punctuation_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("cpf 529.982.247-24", "cpf ***.982.247-**"),
    ("cpf 529982247-24", "cpf ***.982.247-**"),
    ("cpf 000.000.000-00", "cpf ***.000.000-**"),
    ("cnpj 11.222.333/0001-80", "cnpj **.222.333/0001-**"),
    ("cnpj 11222333/0001-80", "cnpj **.222.333/0001-**"),
    ("cnpj 112223330001-80", "cnpj **.222.333/0001-**"),
    ("cnpj 12.ABC.345/01DE-36", "cnpj **.ABC.345/01DE-**"),
])
def test_an_id_formatted_as_one_is_masked_even_when_its_check_digits_do_not_verify(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "tel 11987654321",  # 11 digits, not a CPF
    "phone (11) 98765-4321, +5511987654321",
    "at 20261201123456, 20261201123456.123",  # a 14-digit timestamp, not a CNPJ
    "cpf=52998224724 (check digits wrong)",  # bare: only check digits that verify make it an id
    "cnpj 11222333000180, 529.982.24724",
    "00000000000 and 11111111111111",  # pass the arithmetic, never issued
    "cpf52998224725 and 52998224725x",  # a letter next to it: part of a longer token
    "12abc34501de35 and 12abc345/01de-35",  # lower-case: a hex token, not an alphanumeric CNPJ
    "download/file-12",
])
def test_bare_numbers_whose_check_digits_do_not_verify_are_left_alone(text):
    assert mask_personal_data(text) == text


@pytest.mark.parametrize("text", [
    "barcode 34191969100000100001090086120772722761234500",  # 44 digits
    "linha 34191090086120772722761234500003196610000010000",  # 47 digits
    "linha 34191.09008 61207.727227 61234.500003 1 96610000010000",  # its last field is 14 digits
    "linha 34191.09008 00116.740051 71234.570001 1 20400004921700",
    "linha 34191.09008 00116.740051 71234.570001 1 11222333000181",  # a last field that is a valid CNPJ by chance
    "linha 3419109008 52998224725 11144477735 1 11222333000181",  # typed without dots: 11-digit fields, valid CPFs
    "linhas 34191.09008 00116.740051 71234.570001 1 20400004921700,34191.09008 00116.740051 71234.570001 1 "
    "11222333000181",
    f"file {FILE_ID}",
    "file 0a12345678909b11222333000181c5d6e7f80a12345678909b11222333000181c5d6",  # 11 and 14 digits inside hex
    f"chunk {CHUNK} and 123456789012-0001",
    "debt 45d76f99-9756-4de0-8c6c-cba1309725fa and 12345678-9012-3456-7890-123456789012",
    "amount R$ 11.605,47 (1160547 cents), 123.456.789,00, rate 0.05263157894736842, 0.12345678901",
    "1.12345678901234, 0.12345678901 and 12345678901.5",  # decimal numbers whose parts are no CPF / CNPJ
    "amounts 123.45, 1160547, 123,45",
    "12ABC34501DE36 (an alphanumeric token whose check digits do not verify)",
    "nosso número 109/00000002-4, agência 0057, conta 12345-7",
    "run 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 at 2026-05-01T12:00:00.123Z",
])
def test_barcodes_linhas_ids_and_amounts_are_left_alone(text):
    assert mask_personal_data(text) == text


# --- entrypoints ---------------------------------------------------------------------------------------------------
@pytest.fixture
def root_logger():
    """The root logger as it was, given back after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_mode_writes_plain_unmasked_lines(root_logger, capsys):
    configure_logging("text")
    logging.getLogger("billing_pipeline.api").info("upload from ana@example.com, cpf 529.982.247-25")

    err = capsys.readouterr().err
    assert err.endswith(" INFO billing_pipeline.api: upload from ana@example.com, cpf 529.982.247-25\n")
    assert not err.startswith("{")


def test_configure_logging_twice_keeps_one_handler_and_the_last_format(root_logger, capsys):
    before = len(root_logger.handlers)
    configure_logging("text")
    configure_logging("json")
    configure_logging("json")
    assert len(root_logger.handlers) == before + 1

    logging.getLogger("billing_pipeline.api").warning("refused %s", "ana@example.com")
    (line,) = _json_lines(capsys.readouterr().err)
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "billing_pipeline.api", "refused a***@example.com")
    with pytest.raises(ValueError, match="text, json"):
        configure_logging("yaml")


def test_uvicorn_keeps_its_own_look_in_text_mode():
    from uvicorn.config import LOGGING_CONFIG

    assert uvicorn_log_config("text") == LOGGING_CONFIG


SERVE = textwrap.dedent("""
    import sys, threading, time, urllib.request
    import uvicorn
    from billing_pipeline.structured_logs import uvicorn_log_config

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    server = uvicorn.Server(uvicorn.Config(app, port=int(sys.argv[1]), log_config=uvicorn_log_config("json")))
    thread = threading.Thread(target=server.run)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/debts?email=ana@example.com").read()
    server.should_exit = True
    thread.join()
""")


def test_uvicorn_writes_json_lines_in_json_mode():
    served = subprocess.run([sys.executable, "-c", SERVE, str(free_port())], capture_output=True, text=True,
                            timeout=60, cwd=PROJECT_ROOT)

    assert served.returncode == 0, served.stderr
    lines = [json.loads(line) for line in (served.stderr + served.stdout).splitlines()]  # every line is JSON
    assert {line["logger"] for line in lines} == {"uvicorn.error", "uvicorn.access"}
    (access,) = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["message"].endswith('"GET /debts?email=a***@example.com HTTP/1.1" 200')
    assert any(line["message"].startswith("Uvicorn running on") for line in lines)
    assert all("color_message" not in line for line in lines)


# --- the runs ------------------------------------------------------------------------------------------------------
@pytest.fixture
def json_runs(monkeypatch: pytest.MonkeyPatch) -> dict[str, dg.LoggerDefinition]:
    """run_loggers for BILLING_LOG_FORMAT=json, as definitions.py calls it; Dagster's default loggers are given
    back after the test."""
    for module in (context_creation_job, host_mode):
        monkeypatch.setattr(module, "default_system_loggers", module.default_system_loggers)
    loggers = run_loggers(Settings.from_env({"BILLING_LOG_FORMAT": "json"}))
    assert loggers == {"console": json_lines_logger}
    return loggers


def _python_logs_instance() -> dg.DagsterInstance:
    """An ephemeral instance with the python_logs section of the shipped instance files."""
    embedded = yaml.safe_load((PROJECT_ROOT / "billing_pipeline" / "dagster_embedded.yaml").read_text())
    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert embedded["python_logs"] == production["python_logs"]
    return dg.DagsterInstance.ephemeral(settings={"python_logs": embedded["python_logs"]})


def test_text_mode_leaves_the_definitions_with_dagsters_console():
    assert run_loggers(Settings.from_env({"BILLING_LOG_FORMAT": "text"})) is None
    assert defs.resolve_job_def("process_chunk").loggers == dg.default_loggers()


def test_text_after_json_puts_dagsters_default_loggers_back(monkeypatch, capsys):
    for module in (context_creation_job, host_mode):  # given back after the test whatever run_loggers does
        monkeypatch.setattr(module, "default_system_loggers", module.default_system_loggers)
    assert context_creation_job.default_system_loggers is dagster_loggers.default_system_loggers

    run_loggers(Settings.from_env({"BILLING_LOG_FORMAT": "json"}))
    assert context_creation_job.default_system_loggers is not dagster_loggers.default_system_loggers
    assert run_loggers(Settings.from_env({"BILLING_LOG_FORMAT": "text"})) is None

    for module in (context_creation_job, host_mode):
        assert module.default_system_loggers is dagster_loggers.default_system_loggers
    instance = instance_with_partitions(chunk_partitions, [CHUNK])
    dg.materialize([_logging_chunk], partition_key=CHUNK, instance=instance)
    err = capsys.readouterr().err
    assert " - _logging_chunk - done" in err and not _json_lines(err)  # the coloured console, not JSON
    assert run_loggers(Settings.from_env({"BILLING_LOG_FORMAT": "text"})) is None  # twice: still Dagster's
    assert context_creation_job.default_system_loggers is dagster_loggers.default_system_loggers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_json_run_writes_json_lines_with_run_id_and_file_id(json_runs, settings, engine, tmp_path, capsys):
    # A file the source_file asset rejects; the warning it logs names the file, whose name holds personal data.
    sent = tmp_path / "ana@example.com 529.982.247-25.csv"
    sent.write_text("not,a,debts\nfile,at,all\n")
    file_id = stages.register_stage(engine, settings, submit(sent, settings.inbox_dir)).file_id
    instance = instance_with_partitions(source_file_partitions, [file_id])
    capsys.readouterr()

    # The project's own helper: dg.materialize, no logger config, as the sensors' and the UI's runs have none.
    result = materialize([source_file], settings, file_id, instance)

    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is JSON
    assert {line["run_id"] for line in lines} == {result.run_id}
    assert {line["file_id"] for line in lines} == {file_id}
    assert {"RUN_START", "STEP_START", "STEP_SUCCESS", "RUN_SUCCESS"} <= {line.get("event") for line in lines}
    (warning,) = [line for line in lines if line["level"] == "WARNING"]
    assert warning["message"].startswith("a***@example.com ***.982.247-**.csv rejected: ")
    assert (warning["logger"], warning["step"]) == ("dagster", "source_file")
    assert "529.982.247-25" not in err and "ana@example.com" not in err
    # The event log (the UI's Run page) keeps the message as it was logged.
    (logged,) = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING]
    assert logged.startswith("ana@example.com 529.982.247-25.csv rejected: ")


@dg.asset(partitions_def=chunk_partitions)
def _logging_chunk(context) -> None:
    logging.getLogger("billing_pipeline.test_structured_logs").info("notice for %s queued", "ana@example.com")
    logging.getLogger("billing_pipeline.test_structured_logs").debug("debug too")
    context.log.info("done", extra={"rows": 3})


def test_billing_pipeline_python_logs_in_a_run_reach_the_json_console_with_the_chunk(json_runs, capsys):
    instance = _python_logs_instance()
    instance.add_dynamic_partitions(chunk_partitions.name, [CHUNK])
    job = dg.Definitions(assets=[_logging_chunk], loggers=json_runs).resolve_implicit_global_asset_job_def()

    result = job.execute_in_process(partition_key=CHUNK, instance=instance,
                                    tags={"billing/file_id": FILE_ID, "billing/chunk": CHUNK})

    lines = _json_lines(capsys.readouterr().err)
    by_message = {line["message"]: line for line in lines}
    queued = by_message["notice for a***@example.com queued"]
    assert (queued["run_id"], queued["chunk"], queued["file_id"]) == (result.run_id, CHUNK, FILE_ID)
    assert (queued["level"], queued["step"]) == ("INFO", "_logging_chunk")
    assert by_message["debug too"]["level"] == "DEBUG"
    assert by_message["done"]["rows"] == 3
    stored = {entry.user_message for entry in instance.all_logs(result.run_id) if not entry.is_dagster_event}
    assert "notice for ana@example.com queued" in stored  # managed_python_loggers: in the event log as well


def test_a_failed_step_is_one_line_with_its_error(json_runs, capsys):
    @dg.asset(partitions_def=chunk_partitions)
    def failing_chunk() -> None:
        raise RuntimeError("store refused 529.982.247-25")

    instance = instance_with_partitions(chunk_partitions, [CHUNK])
    result = dg.materialize([failing_chunk], partition_key=CHUNK, instance=instance, raise_on_error=False)

    assert not result.success
    (failure,) = [line for line in _json_lines(capsys.readouterr().err) if line.get("event") == "STEP_FAILURE"]
    assert failure["level"] == "ERROR" and failure["chunk"] == CHUNK
    assert "RuntimeError: store refused ***.982.247-**" in failure["exc_info"]


def test_a_text_run_is_dagsters_coloured_console(capsys):
    instance = instance_with_partitions(chunk_partitions, [CHUNK])
    dg.materialize([_logging_chunk], partition_key=CHUNK, instance=instance)

    err = capsys.readouterr().err
    assert " - dagster - INFO - " in err and " - _logging_chunk - done" in err
    assert not _json_lines(err)

