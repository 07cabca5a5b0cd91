"""Settings: read from one environment mapping, defaults for what is unset or empty, one-line errors naming the
variable, overrides winning, and the documentation derived from the same fields.

Bank-specific account errors (BILLING_CONVENIO for Banco do Brasil, ...) are in test_boletos.py; the CLI's one-line
`error:` for a bad setting is in test_malformed_files.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from billing_pipeline import settings as settings_module
from billing_pipeline.boleto.account import AccountProblem
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.settings import Settings, SettingsError
from billing_pipeline.settings_docs import SETTINGS, env_example, main, readme_table

DEFAULTS_SHOWN = {spec.env_var: spec.default for spec in SETTINGS}


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path.resolve() / "data"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'billing.db'}"
    assert settings.suppressions_path == settings.data_dir / "suppressions.txt"
    assert (settings.chunk_rows, settings.government_id_policy, settings.max_reject_rate) == (100_000, "strict", 0.05)
    assert (settings.bank_code, settings.agencia, settings.conta, settings.carteira) == ("341", "0057", "12345", "109")
    assert settings.beneficiary_document == "11222333000181"  # normalised from the documented 11.222.333/0001-81
    assert (settings.smtp_url, settings.smtp_rate, settings.redelivery_max_wait_seconds) == ("", 20.0, 3600.0)


def test_documented_defaults_are_the_fields_defaults():
    assert DEFAULTS_SHOWN["BILLING_DATA_DIR"] == "data"
    assert DEFAULTS_SHOWN["BILLING_DATABASE_URL"] == "sqlite:///<BILLING_DATA_DIR>/billing.db"
    assert DEFAULTS_SHOWN["BILLING_SUPPRESSION_FILE"] == "<BILLING_DATA_DIR>/suppressions.txt"
    assert DEFAULTS_SHOWN["BILLING_BENEFICIARY_DOCUMENT"] == "11.222.333/0001-81"
    assert DEFAULTS_SHOWN["BILLING_CONVENIO"] == DEFAULTS_SHOWN["BILLING_SMTP_URL"] == ""
    assert DEFAULTS_SHOWN["BILLING_SMTP_RATE"] == "20" and DEFAULTS_SHOWN["BILLING_MAX_REJECT_RATE"] == "0.05"
    derived = {"BILLING_DATA_DIR", "BILLING_INBOX", "BILLING_DATABASE_URL", "BILLING_SUPPRESSION_FILE"}
    literal = {name: value for name, value in DEFAULTS_SHOWN.items() if name not in derived}
    assert Settings.from_env(literal) == Settings.from_env({}), "a documented default differs from the field's"
    assert all(spec.description for spec in SETTINGS)


def test_pydantic_settings_reads_every_documented_variable(monkeypatch, tmp_path):
    changed = {
        "BILLING_DATA_DIR": str(tmp_path), "BILLING_DATABASE_URL": "sqlite://", "BILLING_CHUNK_ROWS": "7",
        "BILLING_GOVERNMENT_ID_POLICY": "lenient", "BILLING_MAX_REJECT_RATE": "0.5", "BILLING_INBOX_POLL_SECONDS": "9",
        "BILLING_DELIVERY_HOLD_SECONDS": "9", "BILLING_BANK": "237", "BILLING_AGENCIA": "1234",
        "BILLING_CONTA": "0403005", "BILLING_CARTEIRA": "09", "BILLING_CONVENIO": "1",
        "BILLING_BENEFICIARY_NAME": "Acme", "BILLING_BENEFICIARY_DOCUMENT": "529.982.247-25",
        "BILLING_MIN_DAYS_TO_DUE": "9", "BILLING_REMESSA_AUTO": "true", "BILLING_DEMO_BANK": "true",
        "BILLING_SMTP_URL": "smtp://mail:25", "BILLING_MAIL_FROM": "a@b.c",
        "BILLING_BENEFICIARY_CONTACT": "x", "BILLING_SMTP_RATE": "9", "BILLING_SMTP_TIMEOUT": "9",
        "BILLING_SMTP_MAX_ATTEMPTS": "9", "BILLING_SMTP_BACKOFF_SECONDS": "9", "BILLING_SMTP_STEP_RETRIES": "9",
        "BILLING_SMTP_STEP_RETRY_SECONDS": "9", "BILLING_REDELIVERY_FIRST_WAIT_SECONDS": "9",
        "BILLING_REDELIVERY_MAX_WAIT_SECONDS": "99", "BILLING_SUPPRESSION_FILE": "/x/s.txt",
        "BILLING_INBOX": "s3://partner-uploads/debts", "BILLING_EXECUTOR": "celery",
        "BILLING_CELERY_BROKER_URL": "pyamqp://u:p@mq:5672//", "BILLING_API_HOST": "0.0.0.0",
        "BILLING_API_PORT": "9", "BILLING_API_TOKENS": "a,b", "BILLING_API_METRICS_TOKEN": "m",
        "BILLING_API_MAX_UPLOAD_BYTES": "9", "BILLING_API_PRESIGN_SECONDS": "99",
        "BILLING_API_PRESIGN_ENDPOINT_URL": "https://s3.example.com", "BILLING_LOG_FORMAT": "json",
        "BILLING_FINE_PERCENT": "2", "BILLING_INTEREST_MONTHLY_PERCENT": "1", "BILLING_DISCOUNT_PERCENT": "5",
        "BILLING_DISCOUNT_DAYS_BEFORE_DUE": "3", "BILLING_PIX_KEY": "a@b.c", "BILLING_PIX_MERCHANT_NAME": "ACME",
        "BILLING_PIX_MERCHANT_CITY": "RIO", "BILLING_REMINDER_OFFSETS": "1,2", "BILLING_REMINDER_TIME": "09:30",
        "BILLING_REMINDER_TIMEZONE": "UTC", "BILLING_QUIET_HOURS": "22:00-07:00", "BILLING_NOTICE_PDF": "link",
        "BILLING_PUBLIC_URL": "https://boletos.example.com", "BILLING_LINK_SECRET": "s" * 32,
    }
    assert set(changed) == set(DEFAULTS_SHOWN)
    defaults = Settings.from_env({})
    for name, value in changed.items():
        monkeypatch.setenv(name, value)
    read = Settings()  # pydantic-settings' own lookup of os.environ, as Settings.from_env() does
    assert read == Settings.from_env()
    unchanged = [name for name in Settings.model_fields if getattr(read, name) == getattr(defaults, name)]
    assert not unchanged, f"not read from their variables: {unchanged}"


def test_a_given_mapping_is_used_instead_of_os_environ(monkeypatch):
    monkeypatch.setenv("BILLING_CHUNK_ROWS", "7")
    monkeypatch.setenv("BILLING_BANK", "999")
    assert Settings.from_env({"BILLING_SMTP_RATE": "3"}).chunk_rows == 100_000
    assert Settings.from_env({"BILLING_SMTP_RATE": "3"}).bank_code == "341"
    monkeypatch.delenv("BILLING_BANK")
    assert Settings.from_env().chunk_rows == 7


def test_only_the_exact_variable_names_count():
    assert Settings.from_env({"billing_chunk_rows": "7", "CHUNK_ROWS": "7", "bank_code": "999"}).chunk_rows == 100_000


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_value_means_the_default(empty):
    env = dict.fromkeys(DEFAULTS_SHOWN, empty)
    assert Settings.from_env(env) == Settings.from_env({})


def test_values_are_stripped_and_the_policy_is_any_case():
    settings = Settings.from_env({"BILLING_CHUNK_ROWS": " 50 ", "BILLING_GOVERNMENT_ID_POLICY": " Lenient ",
                                  "BILLING_BENEFICIARY_DOCUMENT": " 529.982.247-25 "})
    assert (settings.chunk_rows, settings.government_id_policy) == (50, "lenient")
    assert settings.beneficiary_document == "52998224725"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BILLING_CHUNK_ROWS": "abc"}, "BILLING_CHUNK_ROWS must be a whole number, got 'abc'"),
        ({"BILLING_CHUNK_ROWS": "1.5"}, "BILLING_CHUNK_ROWS must be a whole number, got '1.5'"),
        ({"BILLING_CHUNK_ROWS": "0"}, "BILLING_CHUNK_ROWS must be at least 1, got 0"),
        ({"BILLING_INBOX_POLL_SECONDS": "0"}, "BILLING_INBOX_POLL_SECONDS must be at least 1, got 0"),
        ({"BILLING_MAX_REJECT_RATE": "2"}, "BILLING_MAX_REJECT_RATE must be between 0 and 1, got 2"),
        ({"BILLING_MAX_REJECT_RATE": "lots"},
         "BILLING_MAX_REJECT_RATE must be a number between 0 and 1, got 'lots'"),
        ({"BILLING_SMTP_RATE": "fast"}, "BILLING_SMTP_RATE must be a number at least 0, got 'fast'"),
        ({"BILLING_SMTP_TIMEOUT": "-1"}, "BILLING_SMTP_TIMEOUT must be at least 0, got -1"),
        ({"BILLING_SMTP_STEP_RETRIES": "-1"}, "BILLING_SMTP_STEP_RETRIES must be at least 0, got -1"),
        ({"BILLING_GOVERNMENT_ID_POLICY": "loose"},
         "BILLING_GOVERNMENT_ID_POLICY must be one of strict, lenient, got 'loose'"),
        ({"BILLING_BANK": "999"}, "BILLING_BANK must be one of 001, 033, 104, 237, 341, got '999'"),
        ({"BILLING_SMTP_URL": "http://mail"}, "BILLING_SMTP_URL must start with smtp://"),
        ({"BILLING_MAIL_FROM": "nobody"}, "BILLING_MAIL_FROM has no address: 'nobody'"),
        ({"BILLING_REDELIVERY_FIRST_WAIT_SECONDS": "100", "BILLING_REDELIVERY_MAX_WAIT_SECONDS": "50"},
         "BILLING_REDELIVERY_MAX_WAIT_SECONDS must not be less than BILLING_REDELIVERY_FIRST_WAIT_SECONDS"),
        ({"BILLING_REMINDER_TIME": "07:59"},  # the default window, 20:00-08:00, wraps midnight
         "BILLING_REMINDER_TIME 07:59 is inside BILLING_QUIET_HOURS 20:00-08:00"),
        ({"BILLING_REMINDER_TIME": "23:00"}, "BILLING_REMINDER_TIME 23:00 is inside BILLING_QUIET_HOURS"),
        ({"BILLING_REMINDER_TIME": "12:00", "BILLING_QUIET_HOURS": "12:00-14:00"},
         "BILLING_REMINDER_TIME 12:00 is inside BILLING_QUIET_HOURS 12:00-14:00"),
    ],
)
def test_a_bad_value_is_a_one_line_error_naming_its_variable(env, message):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text and "Input should" not in text and "pydantic" not in text


@pytest.mark.parametrize(("at", "quiet"), [("08:00", "20:00-08:00"), ("19:59", "20:00-08:00"), ("14:00", "12:00-14:00"),
                                          ("03:00", "off")])
def test_a_reminder_time_outside_the_quiet_hours_is_accepted(at, quiet):
    assert Settings.from_env({"BILLING_REMINDER_TIME": at, "BILLING_QUIET_HOURS": quiet}).reminder_time == at


def test_every_bad_value_is_listed_in_the_one_error():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BILLING_CHUNK_ROWS": "x", "BILLING_SMTP_RATE": "y", "BILLING_MIN_DAYS_TO_DUE": "-1"})
    assert str(raised.value) == ("BILLING_CHUNK_ROWS must be a whole number, got 'x'; BILLING_MIN_DAYS_TO_DUE must "
                                 "be at least 0, got -1; BILLING_SMTP_RATE must be a number at least 0, got 'y'")


def test_cross_field_problems_are_gathered():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BILLING_BENEFICIARY_DOCUMENT": "1", "BILLING_MAIL_FROM": "nobody"})
    assert str(raised.value) == ("settings are not usable: BILLING_BENEFICIARY_DOCUMENT is not a valid CNPJ or "
                                 "CPF: '1'; BILLING_MAIL_FROM has no address: 'nobody'")


def test_bank_problems_name_their_setting(monkeypatch):
    bank = BANKS["341"]
    problems = [AccountProblem("conta", "must be 5 digits for this bank, got '1'"),
                "BILLING_CARTEIRA must be 3 digits for this bank, got '1'"]  # a bank still saying sentences
    monkeypatch.setattr(bank, "check_account", lambda account: list(problems))
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({})
    assert str(raised.value) == ("settings are not usable: BILLING_CONTA must be 5 digits for this bank, got '1'; "
                                 "BILLING_CARTEIRA must be 3 digits for this bank, got '1'")


def test_overrides_win(monkeypatch, tmp_path):
    env = {"BILLING_DATA_DIR": "/nowhere", "BILLING_DATABASE_URL": "sqlite:///env.db", "BILLING_CHUNK_ROWS": "7",
           "BILLING_GOVERNMENT_ID_POLICY": "strict", "BILLING_BANK": "237", "BILLING_CONTA": "0403005",
           "BILLING_CARTEIRA": "09"}
    settings = Settings.from_env(env, data_dir=tmp_path, database_url="sqlite://", chunk_rows=3,
                                 government_id_policy="lenient", bank_code="341", conta="12345", carteira="109")
    assert (settings.data_dir, settings.database_url, settings.chunk_rows) == (tmp_path.resolve(), "sqlite://", 3)
    assert (settings.government_id_policy, settings.bank_code, settings.conta) == ("lenient", "341", "12345")
    # data_dir=None is no override, as for the resource whose data_dir is unset; the store follows the data dir.
    settings = Settings.from_env({"BILLING_DATA_DIR": str(tmp_path)}, data_dir=None)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'billing.db'}"
    with pytest.raises(SettingsError, match="^chunk_row is not a setting$"):
        Settings.from_env({}, chunk_row=3)
    with pytest.raises(SettingsError, match="BILLING_CHUNK_ROWS must be at least 1, got 0"):
        Settings.from_env({}, chunk_rows=0)


def test_is_demo_account_compares_with_the_defaults_without_building_settings(monkeypatch):
    defaults = Settings.from_env({})
    assert defaults.is_demo_account
    changed = [Settings.from_env({"BILLING_CONTA": "54321"}), defaults.replace(beneficiary_name="Acme")]

    def no_settings_built(*args, **kwargs):
        raise AssertionError("is_demo_account built a Settings")

    monkeypatch.setattr(settings_module, "_Environment", no_settings_built)
    assert defaults.is_demo_account
    assert not any(settings.is_demo_account for settings in changed)


def test_frozen_and_replace_validates_again():
    settings = Settings.from_env({})
    with pytest.raises(ValidationError, match="frozen"):
        settings.chunk_rows = 1  # type: ignore[misc]
    assert settings.replace(chunk_rows=10).chunk_rows == 10
    assert settings.replace(chunk_rows=10).data_dir == settings.data_dir
    with pytest.raises(SettingsError, match="BILLING_CHUNK_ROWS must be at least 1"):
        settings.replace(chunk_rows=0)


def test_paths(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path)
    data = tmp_path.resolve()
    assert settings.archive_path("f-1") == data / "archive" / "f-1.csv"
    assert settings.rejects_path("f-1") == settings.rejects_dir / "f-1.csv" == data / "rejects" / "f-1.csv"
    assert settings.report_path("f-1") == settings.reports_dir / "f-1.json"
    assert settings.boleto_archive_path("f-1.0003") == data / "boletos" / "f-1.0003.zip"
    assert Settings.from_env({"BILLING_SUPPRESSION_FILE": "/x/s.txt"}).suppressions_path == Path("/x/s.txt")
    settings.ensure_dirs()
    assert all(path.is_dir() for path in (settings.inbox_dir, settings.archive_dir, settings.rejects_dir,
                                           settings.staging_dir, settings.boletos_dir))


def test_from_env_is_cheap():
    Settings.from_env()
    calls = 100
    started = time.perf_counter()
    for _ in range(calls):
        Settings.from_env()
    assert (time.perf_counter() - started) / calls < 0.01  # per Dagster step and sensor tick; about 0.5 ms


def test_generated_documentation_covers_every_setting(capsys):
    example, table = env_example(), readme_table()
    for spec in SETTINGS:
        assert f"{spec.env_var}=" in example
        assert f"| `{spec.env_var}` |" in table
    assert main(["--env-example"]) == 0
    assert capsys.readouterr().out == example
    assert main(["--readme-table"]) == 0
    assert capsys.readouterr().out == table


def test_replace_moves_the_embedded_store_with_its_data_folder_but_keeps_a_configured_one(tmp_path):
    embedded = Settings.from_env({}, data_dir=tmp_path / "a")
    moved = embedded.replace(data_dir=tmp_path / "b")
    assert moved.database_url == f"sqlite:///{tmp_path / 'b' / 'billing.db'}"
    configured = Settings.from_env({"BILLING_DATABASE_URL": "postgresql+psycopg://db/billing"}, data_dir=tmp_path)
    assert configured.replace(data_dir=tmp_path / "b").database_url == "postgresql+psycopg://db/billing"


@pytest.mark.parametrize("variable", ["BILLING_SMTP_RATE", "BILLING_MAX_REJECT_RATE",
                                      "BILLING_REDELIVERY_MAX_WAIT_SECONDS"])
def test_infinite_or_nan_numbers_are_refused(variable):
    for value in ("inf", "nan"):
        with pytest.raises(SettingsError, match=variable):
            Settings.from_env({variable: value})


def test_the_smtp_password_is_never_printed():
    settings = Settings.from_env({"BILLING_SMTP_URL": "smtps://mailer:s3cr3t-pw@smtp.example.com"})
    assert "s3cr3t-pw" not in repr(settings) and "s3cr3t-pw" not in str(settings)
    assert settings.smtp_url.endswith("@smtp.example.com")


def test_a_bucket_data_dir_is_an_s3_location_and_needs_a_database():
    settings = Settings.from_env({"BILLING_DATA_DIR": "s3://billing/data/", "BILLING_DATABASE_URL": "sqlite://"})
    assert str(settings.archive_path("ab")) == "s3://billing/data/archive/ab.csv"
    assert str(settings.inbox_dir) == "s3://billing/data/inbox" and settings.in_bucket
    assert Settings.model_validate_json(settings.model_dump_json()) == settings  # handed to `billing process` workers
    with pytest.raises(SettingsError, match="BILLING_DATABASE_URL must be set when BILLING_DATA_DIR is a bucket"):
        Settings.from_env({"BILLING_DATA_DIR": "s3://billing/data"})


@pytest.mark.parametrize("value, problem", [
    ("gs://billing", "must be a local folder or s3://bucket/prefix"),
    ("s3://Bad_Bucket/x", "names no valid bucket"),
    ("s3://billing/../etc", r"must not contain \. or \.\."),
])
def test_a_data_dir_url_other_than_a_bucket_prefix_is_refused_by_name(value, problem):
    with pytest.raises(SettingsError, match=f"BILLING_DATA_DIR {problem}"):
        Settings.from_env({"BILLING_DATA_DIR": value, "BILLING_DATABASE_URL": "sqlite://"})


def test_the_inbox_can_be_another_bucket_than_the_data():
    settings = Settings.from_env({"BILLING_INBOX": "s3://partner-uploads/debts"})
    assert str(settings.inbox_dir) == "s3://partner-uploads/debts"
    assert not settings.in_bucket and settings.archive_dir == settings.data_dir / "archive"
