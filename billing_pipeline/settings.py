"""Every setting of Smart Billing, declared once as a field of `Settings` and read from the environment (``BILLING_*``).

A field is one setting: its environment name (``BILLING_`` + the field name, or its ``validation_alias``), its default,
its validation and its description. Each has a working default so that a newcomer runs the product with no services
at all. ``SETTINGS``, the README's settings table and the billing part of ``.env.example`` are derived from the fields
(settings_docs.py):
``python -m billing_pipeline.settings_docs --write`` rewrites both files, and the test suite checks that they are current.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import time
from decimal import Decimal
from email.utils import parseaddr
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Le
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars
from upath import UPath

from billing_pipeline import government_id
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.mail.smtp_url import parse_smtp_url
from billing_pipeline.pix.brcode import PixReceiver, receiver_problems
from billing_pipeline.storage.location import is_bucket, location

ENV_PREFIX = "BILLING_"
GovernmentIdPolicy = Literal["strict", "lenient"]
GOVERNMENT_ID_POLICIES: tuple[str, ...] = get_args(GovernmentIdPolicy)
Executor = Literal["in_process", "celery"]
LogFormat = Literal["text", "json"]
NoticePdf = Literal["attach", "link"]
MIN_LINK_SECRET_LENGTH = 32  # characters; `secrets.token_urlsafe(32)` gives 43


# The environment `Settings.from_env` was given, for the source that `settings_customise_sources` builds.
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("billing_settings_environment", default=None)


class SettingsError(ValueError):
    """A setting has a value the product cannot work with; the one-line message names the variable."""


def _doc(*, group: str | None = None, shown_default: str | None = None, example: str | None = None) -> JsonDict:
    """Documentation-only facts of a field: the .env.example section it opens, the default as documented when it is
    derived from another setting, and, for a line .env.example leaves commented out, the value shown there."""
    extra = {"group": group, "shown_default": shown_default, "example": example}
    return {key: value for key, value in extra.items() if value is not None}


def _within(moment: time, window: tuple[time, time]) -> bool:
    """Whether a time of day is inside a window that wraps midnight when its start is after its end; the end is
    not inside (stages.remind.quiet_until reads the window the same way).

    >>> night = (time(20), time(8))
    >>> _within(time(8), night), _within(time(7, 59), night), _within(time(20), night)
    (False, True, True)
    >>> _within(time(13), (time(12), time(14))), _within(time(14), (time(12), time(14)))
    (True, False)
    """
    start, end = window
    return start <= moment < end if start <= end else (moment >= start or moment < end)


def _problem(message: str) -> PydanticCustomError:
    # The message travels as context, so that braces in a value are not read as a template.
    return PydanticCustomError("billing_setting", "{message}", {"message": message})


class Settings(BaseSettings):
    """The validated settings; `Settings.from_env()` reads them (or `Settings()`, from os.environ)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # BILLING_X= (or only spaces) means the default, as when it is not set
        str_strip_whitespace=True,
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        allow_inf_nan=False,  # `inf` would pass here and fail as JSON (null) in a `billing process` worker
    )

    # --- runtime --------------------------------------------------------------------------------------------------
    data_dir: UPath = Field(
        UPath("data"), validate_default=True,
        description="Root of the runtime folders: `inbox/`, `archive/`, `rejects/`, `staging/`, `boletos/`, "
        "`reports/`, `outbox/`. A local folder, or `s3://bucket/prefix` on any S3-compatible store (docker-compose: "
        "`s3://billing/data`), reached with the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, "
        "`AWS_ENDPOINT_URL` and `AWS_REGION`. A bucket needs `BILLING_DATABASE_URL`.",
        json_schema_extra=_doc(group="Billing settings (billing_pipeline/settings.py)", example="data"),
    )
    inbox: UPath | None = Field(
        None,
        description="Where files are dropped: a folder or `s3://bucket/prefix` (a partner's upload bucket, say). "
        "In a bucket an object is taken as soon as it is listed.",
        json_schema_extra=_doc(shown_default="<BILLING_DATA_DIR>/inbox", example="s3://partner-uploads/debts"),
    )
    database_url: str = Field(
        "", validate_default=True,
        description="The store. SQLite for the embedded default, `postgresql+psycopg://user@host:5432/db` in "
        "production (`postgresql://` means psycopg 3 too); Docker builds it from `POSTGRES_*`.",
        json_schema_extra=_doc(shown_default="sqlite:///<BILLING_DATA_DIR>/billing.db",
                               example="postgresql+psycopg://billing:demo-only-password@postgres:5432/billing"),
    )
    chunk_rows: int = Field(
        100_000, ge=1,
        description="Data rows per chunk partition (a 1.1M-row file gives 11 chunks, one run each).",
    )
    government_id_policy: GovernmentIdPolicy = Field(
        "strict",
        description="`strict`: governmentId must be a valid CPF or CNPJ (alphanumeric CNPJ included); "
        "`lenient`: any 1-14 digits (the public Kanastra file).",
    )
    max_reject_rate: float = Field(
        0.05, ge=0, le=1,
        description="A chunk whose rejected/rows exceeds this fails its `reject_rate_below_threshold` check.",
    )
    inbox_poll_seconds: int = Field(
        2, ge=1,
        description="How often the inbox sensor looks; a file is taken after two looks that see the same size and "
        "mtime, or at once when its mtime is already this old.",
    )
    delivery_hold_seconds: int = Field(
        600, ge=0,
        description="Chunk deliveries (PDFs, e-mails) wait while a file is being split or stored, so storing gets "
        "the machine; a delivery waiting longer than this starts anyway.",
    )

    executor: Executor = Field(
        "in_process",
        description="How a run's steps execute: `in_process` (one process per run) or `celery` (each step a task "
        "on dagster-celery workers, over `BILLING_CELERY_BROKER_URL`; needs a bucket `BILLING_DATA_DIR` when the "
        "workers share no disk).",
    )
    celery_broker_url: str = Field(
        "pyamqp://guest:guest@127.0.0.1:5672//", repr=False,  # it may hold the broker's password
        description="The Celery broker of `BILLING_EXECUTOR=celery` (RabbitMQ). DEMO default: RabbitMQ's guest "
        "account on this machine.",
    )

    # --- the HTTP API (`billing api`) and logs ---------------------------------------------------------------------
    api_host: str = Field(
        "127.0.0.1",
        description="Address `billing api` listens on. Without `BILLING_API_TOKENS` it stays on loopback whatever "
        "this says.",
        json_schema_extra=_doc(group="HTTP API (billing api) and logs"),
    )
    api_port: int = Field(8000, ge=1, le=65535, description="Port of `billing api` (and of the API `billing dev` "
                          "starts).")
    api_tokens: str = Field(
        "", repr=False,  # secrets
        description="Bearer tokens the API accepts, comma-separated (`Authorization: Bearer <token>`). Empty: no "
        "authentication, and the API binds to 127.0.0.1 only.",
        json_schema_extra=_doc(example="demo-only-api-token"),
    )
    api_metrics_token: str = Field(
        "", repr=False,
        description="When set, `GET /metrics` needs this bearer token too; `/health` is always open.",
    )
    api_max_upload_bytes: int = Field(
        1 << 30, ge=1,
        description="The largest file `POST /files` takes, in bytes (default 1 GiB); a larger upload is refused "
        "with 413 and nothing of it is kept.",
    )
    api_presign_seconds: int = Field(
        3600, ge=60, le=7 * 24 * 3600,
        description="How long a `POST /files/presign` upload URL stays valid (bucket inbox only).",
    )
    api_presign_endpoint_url: str = Field(
        "",
        description="The object store's address as clients reach it, for `POST /files/presign` URLs (a signature "
        "covers the host); empty: `AWS_ENDPOINT_URL`, or AWS's own. docker-compose: `http://127.0.0.1:8333`.",
        json_schema_extra=_doc(example="https://s3.example.com"),
    )
    log_format: LogFormat = Field(
        "text",
        description="`text`, or `json`: one JSON object per line (timestamp, level, logger, message, and file_id, "
        "chunk and run_id where known) from the API and the runs, CPF/CNPJ and e-mail addresses masked.",
    )

    # --- the issuing account ----------------------------------------------------------------------------------------
    bank_code: str = Field(
        "341", validation_alias="BILLING_BANK",
        description="Issuing bank: 001 Banco do Brasil, 033 Santander, 104 Caixa (SIGCB), 237 Bradesco, 341 Itaú.",
        json_schema_extra=_doc(group="Boleto issuer: DEMO account, replace with the real beneficiary's bank data"),
    )
    agencia: str = Field("0057", description="Agência (4 digits). The default is a DEMO account.")
    conta: str = Field("12345", description="Conta without its DV (Itaú 5 digits, Bradesco 7). DEMO default.")
    carteira: str = Field("109", description="Carteira (Itaú 3 digits, Bradesco/BB 2, Santander 3). DEMO default.")
    convenio: str = Field(
        "",
        description="Convênio (BB, 7 digits) or código do beneficiário (Caixa 6, Santander 7); unused by Itaú and "
        "Bradesco.",
    )
    beneficiary_name: str = Field(
        "DEMO Smart Billing Beneficiário (exemplo, não pagar)",
        description="Beneficiário printed on boletos. The default marks every boleto as a demo.",
    )
    beneficiary_document: str = Field(
        "11.222.333/0001-81", validate_default=True,  # kept normalised: 11222333000181
        description="Beneficiário's CNPJ (or CPF). The default is a well-known example CNPJ, not a real company.",
    )
    min_days_to_due: int = Field(
        3, ge=0,
        description="A boleto is due on the debt's due date when that is at least this many days ahead, else "
        "today + this.",
    )

    # --- charge terms printed on the boleto and registered with the bank --------------------------------------------
    fine_percent: Decimal = Field(
        Decimal("0"), ge=0, le=100, decimal_places=2,
        description="Multa: percent of the amount charged once, from the day after the due date (0: none). A "
        "CSV's `finePercent` column overrides it per debt. Consumer debts are capped at 2% by law (CDC art. 52).",
        json_schema_extra=_doc(group="Charge terms: fine, interest and discount"),
    )
    interest_monthly_percent: Decimal = Field(
        Decimal("0"), ge=0, le=100, decimal_places=2,
        description="Juros de mora: percent a month, charged pro rata by day from the day after the due date (0: "
        "none). A CSV's `interestMonthlyPercent` column overrides it per debt.",
    )
    discount_percent: Decimal = Field(
        Decimal("0"), ge=0, lt=100, decimal_places=2,
        description="Discount for paying early: percent of the amount, until BILLING_DISCOUNT_DAYS_BEFORE_DUE "
        "days before the due date (0: none). The CSV's `discountPercent` and `discountUntil` columns override it.",
    )
    discount_days_before_due: int = Field(
        0, ge=0, le=365,
        description="The discount holds until this many days before the due date (0: until the due date itself).",
    )

    # --- bank files ---------------------------------------------------------------------------------------------------
    remessa_auto: bool = Field(
        False,
        description="The daemon writes a remessa (CNAB 240) of every boleto not yet sent to the bank, and of the "
        "baixas queued, once no inbox file is being processed. Off: `billing cnab remessa`, or materializing the "
        "remessa asset in the UI, writes one.",
        json_schema_extra=_doc(group="Bank files (CNAB 240 remessa and retorno)"),
    )
    demo_bank: bool = Field(
        False,
        description="SIMULATION, for the demo: the daemon answers each remessa of the DEMO account with the "
        "retorno a bank could send back (`billing cnab simulate`), dropped into the retorno inbox. Ignored, with a "
        "warning, for any other account.",
    )

    # --- PIX on the boleto (bolepix) --------------------------------------------------------------------------------
    pix_key: str = Field(
        "",
        description="A PIX key of the beneficiary (CPF, CNPJ, e-mail, +55 phone or random key): every boleto then "
        "carries a static BR Code, as a QR code on the PDF and as copia-e-cola in the e-mail. Empty: no PIX.",
        json_schema_extra=_doc(group="PIX on the boleto", example="123e4567-e12b-12d1-a456-426655440000"),
    )
    pix_merchant_name: str = Field(
        "",
        description="Merchant name in the BR Code (at most 25 characters, unaccented). Empty: "
        "BILLING_BENEFICIARY_NAME, cut to 25 characters.",
    )
    pix_merchant_city: str = Field(
        "SAO PAULO", description="Merchant city in the BR Code (at most 15 characters, unaccented). DEMO default.",
    )

    # --- notices to debtors -----------------------------------------------------------------------------------------
    smtp_url: str = Field(
        "", repr=False,  # it may hold the server's password
        description="Empty: notices are written to `<BILLING_DATA_DIR>/outbox/*.eml`. Else `smtp://host:25`, "
        "`smtp+starttls://user:pass@host:587` or `smtps://user:pass@host:465` (a password in the URL must be "
        "URL-encoded).",
        json_schema_extra=_doc(group="Notices to debtors (e-mail)"),
    )
    mail_from: str = Field(
        "DEMO Smart Billing <cobranca@example.com>", description="From: of every notice. DEMO default."
    )
    beneficiary_contact: str = Field(
        "cobranca@example.com", description="The contact printed in every notice. DEMO default."
    )
    notice_pdf: NoticePdf = Field(
        "attach",
        description="`attach`: each notice carries its boleto PDF. `link`: it carries a link to the PDF instead, "
        "served by `billing api` under `BILLING_PUBLIC_URL` and signed with `BILLING_LINK_SECRET`: ~3.3 KB a "
        "message instead of ~9-21 KB, for mail services that bill by size (the notices then never read the PDF "
        "archives).",
    )
    public_url: str = Field(
        "",
        description="Where recipients reach `billing api` (behind a proxy, its public address), the base of the "
        "links of `BILLING_NOTICE_PDF=link`: `https://boletos.example.com`. Required with `link`.",
        json_schema_extra=_doc(example="https://boletos.example.com"),
    )
    link_secret: str = Field(
        "", repr=False,  # whoever has it can make the link of any debt
        description=f"The key that signs boleto links (HMAC-SHA256), at least {MIN_LINK_SECRET_LENGTH} characters: "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`. Required with `link`; while set, "
        "`GET /boletos/<debtId>.pdf?sig=...` serves the PDF without a token. Changing it breaks the links sent.",
    )
    smtp_rate: float = Field(
        20.0, ge=0, description="At most this many messages per second per worker (0: no limit)."
    )
    smtp_timeout: float = Field(
        30.0, ge=0, description="Seconds to wait for the SMTP server before treating the try as failed."
    )
    smtp_max_attempts: int = Field(
        5, ge=1,
        description="Tries per message inside a run (4xx, timeouts, dropped connections); what is left is retried "
        "by the step.",
    )
    smtp_backoff_seconds: float = Field(
        1.0, ge=0, description="First wait between tries, in seconds; doubles each try, with jitter."
    )
    smtp_step_retries: int = Field(
        5, ge=0,
        description="Retries of the `notifications` step while notices are still pending after the in-step tries "
        "(0: none).",
    )
    smtp_step_retry_seconds: float = Field(
        5.0, ge=0,
        description="First wait before the step is retried; doubles each retry, with jitter (5 retries: about 2.5 "
        "minutes of waits).",
    )
    redelivery_first_wait_seconds: float = Field(
        60.0, ge=1,
        description="A chunk whose delivery run failed with notices still pending is delivered again this long "
        "after, then at doubling intervals up to `BILLING_REDELIVERY_MAX_WAIT_SECONDS`, until none is pending.",
    )
    redelivery_max_wait_seconds: float = Field(
        3600.0, ge=1,
        description="The longest wait between two automatic deliveries of a chunk whose notices wait on the mail "
        "server.",
    )
    suppression_file: UPath | None = Field(
        None,
        description="Addresses never to write to (hard bounces, opt-outs), one per line; their notices become "
        "`suppressed`.",
        json_schema_extra=_doc(shown_default="<BILLING_DATA_DIR>/suppressions.txt",
                               example="/path/to/suppressions.txt"),
    )

    # --- reminders (the régua) ----------------------------------------------------------------------------------------
    reminder_offsets: str = Field(
        "-3,0,1,7,15",
        description="Days from the due date on which a reminder goes out, comma-separated: -3 is three days "
        "before, 0 the due date, 7 a week after. `off`: no reminders.",
        json_schema_extra=_doc(group="Reminders (the régua)"),
    )
    reminder_time: str = Field(
        "08:00", description="Time of day (HH:MM, in BILLING_REMINDER_TIMEZONE) at which the daily reminders run."
    )
    reminder_timezone: str = Field(
        "America/Sao_Paulo", description="IANA time zone of the reminder schedule and of the quiet hours."
    )
    quiet_hours: str = Field(
        "20:00-08:00",
        description="No reminder is sent between these times (HH:MM-HH:MM, in BILLING_REMINDER_TIMEZONE); a "
        "reminder due then waits for the end of the window. `off`: none.",
    )

    def __init__(self, **values: Any) -> None:
        """Settings from os.environ, `values` winning; `Settings.from_env` is the usual way in."""
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise _settings_error(error) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environment = _ENVIRONMENT.get()
        return init_settings, _Environment(settings_cls, os.environ if environment is None else environment)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings in `env` (os.environ when None; a given mapping is used instead of it, not merged with it),
        with `overrides` (field names: data_dir=Path(...), chunk_rows=10) winning. Raises SettingsError."""
        if overrides.get("data_dir") is None:
            overrides.pop("data_dir", None)
        token = _ENVIRONMENT.set(env)
        try:
            return cls(**overrides)
        finally:
            _ENVIRONMENT.reset(token)

    def replace(self, **changes: Any) -> Settings:
        """A copy with these fields changed, validated again (the environment is not read). Raises SettingsError."""
        values = {**self.model_dump(), **changes}
        if "data_dir" in changes and "database_url" not in changes and self.database_url == _embedded_store(
                self.data_dir):
            del values["database_url"]  # the embedded store moves with its data folder, as from_env derives it
        return type(self).from_env({}, **values)

    # --- field validation -------------------------------------------------------------------------------------------
    @field_validator("data_dir", "inbox", "suppression_file", mode="before")
    @classmethod
    def _location(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict):  # a dict: UPath's own JSON, from model_dump_json
            return value
        try:
            return location(value)
        except ValueError as error:
            raise _problem(str(error)) from None

    @field_validator("database_url", mode="before")
    @classmethod
    def _store_in_data_dir(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            data_dir = info.data.get("data_dir")
            if is_bucket(data_dir):
                raise _problem(f"must be set when BILLING_DATA_DIR is a bucket ({data_dir}): the embedded SQLite "
                               "store needs a local disk, e.g. postgresql+psycopg://user@host:5432/billing")
            return _embedded_store(data_dir) if data_dir is not None else ""
        return value

    @field_validator("government_id_policy", mode="before")
    @classmethod
    def _policy_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, value: str) -> str:
        if value.lower() in ("off", ""):
            return ""
        parts = [part.strip() for part in value.split(",") if part.strip()]
        try:
            days = sorted({int(part) for part in parts})
        except ValueError:
            raise _problem(f"must be whole days from the due date, comma-separated (e.g. -3,0,1,7), got {value!r}") \
                from None
        if any(abs(day) > 365 for day in days):
            raise _problem(f"offsets must be within a year of the due date, got {value!r}")
        return ",".join(str(day) for day in days)

    @field_validator("reminder_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        return _clock_time(value).strftime("%H:%M")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_window(cls, value: str) -> str:
        if value.lower() in ("off", ""):
            return ""
        start, separator, end = value.partition("-")
        if not separator:
            raise _problem(f"must be HH:MM-HH:MM (e.g. 20:00-08:00), got {value!r}")
        return f"{_clock_time(start).strftime('%H:%M')}-{_clock_time(end).strftime('%H:%M')}"

    @field_validator("reminder_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _problem(f"is not an IANA time zone such as America/Sao_Paulo: {value!r}") from None
        return value

    @field_validator("bank_code")
    @classmethod
    def _known_bank(cls, value: str) -> str:
        if value not in BANKS:
            raise _problem(f"must be one of {', '.join(sorted(BANKS))}, got {value!r}")
        return value

    @field_validator("beneficiary_document")
    @classmethod
    def _normalised_document(cls, value: str) -> str:
        return government_id.normalise(value)

    @model_validator(mode="after")
    def _usable(self) -> Settings:
        problems = [_account_problem(problem) for problem in BANKS[self.bank_code].check_account(self.account)]
        if government_id.kind(self.beneficiary_document) is None:
            problems.append(f"BILLING_BENEFICIARY_DOCUMENT is not a valid CNPJ or CPF: {self.beneficiary_document!r}")
        if not self.beneficiary_name:
            problems.append("BILLING_BENEFICIARY_NAME must not be empty")
        if self.smtp_url:
            try:
                parse_smtp_url(self.smtp_url)
            except ValueError as error:
                problems.append(f"{ENV_VARS['smtp_url']} {error}")
        problems.extend(self._link_problems())
        if self.redelivery_max_wait_seconds < self.redelivery_first_wait_seconds:
            problems.append("BILLING_REDELIVERY_MAX_WAIT_SECONDS must not be less than "
                            "BILLING_REDELIVERY_FIRST_WAIT_SECONDS")
        if "@" not in parseaddr(self.mail_from)[1]:
            problems.append(f"BILLING_MAIL_FROM has no address: {self.mail_from!r}")
        if self.pix_receiver is not None:
            problems.extend(receiver_problems(self.pix_receiver))
        if self.quiet_window is not None and _within(self.reminder_clock_time, self.quiet_window):
            problems.append(f"BILLING_REMINDER_TIME {self.reminder_time} is inside BILLING_QUIET_HOURS "
                            f"{self.quiet_hours}, so the daily reminders would always wait for the window to end: "
                            "choose a time outside it (the window's end time is outside)")
        if problems:
            raise _problem("settings are not usable: " + "; ".join(problems))
        return self

    def _link_problems(self) -> list[str]:
        problems = []
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                problems.append("BILLING_PUBLIC_URL must be an http(s) address such as https://boletos.example.com "
                                f"(no query), got {self.public_url!r}")
        elif self.notice_pdf == "link":
            problems.append("BILLING_PUBLIC_URL must be set with BILLING_NOTICE_PDF=link: the address recipients "
                            "reach `billing api` at, e.g. https://boletos.example.com")
        if self.link_secret and len(self.link_secret) < MIN_LINK_SECRET_LENGTH:
            problems.append(f"BILLING_LINK_SECRET is too short ({len(self.link_secret)} characters): use at least "
                            f"{MIN_LINK_SECRET_LENGTH}, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        elif not self.link_secret and self.notice_pdf == "link":
            problems.append("BILLING_LINK_SECRET must be set with BILLING_NOTICE_PDF=link (it signs the links), e.g. "
                            "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return problems

    # --- derived values ---------------------------------------------------------------------------------------------
    @property
    def account(self) -> BeneficiaryAccount:
        return BeneficiaryAccount(self.bank_code, self.agencia, self.conta, self.carteira, self.convenio,
                                  self.beneficiary_name, self.beneficiary_document)

    @property
    def is_demo_account(self) -> bool:
        """True while the issuing account is the shipped example: documents then say they are not payable."""
        return self.account == _default_account()

    @property
    def reminder_offset_days(self) -> tuple[int, ...]:
        """BILLING_REMINDER_OFFSETS as days from the due date, ascending."""
        return tuple(int(part) for part in self.reminder_offsets.split(",") if part)

    @property
    def reminder_clock_time(self) -> time:
        return _clock_time(self.reminder_time)

    @property
    def reminder_zone(self) -> ZoneInfo:
        return ZoneInfo(self.reminder_timezone)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """(start, end) of the quiet hours in the reminder time zone; the window wraps midnight when start > end."""
        if not self.quiet_hours:
            return None
        start, _, end = self.quiet_hours.partition("-")
        return _clock_time(start), _clock_time(end)

    @property
    def pix_merchant(self) -> str:
        """The merchant name of the BR Code: BILLING_PIX_MERCHANT_NAME, else the beneficiary's name."""
        return self.pix_merchant_name or self.beneficiary_name

    @property
    def pix_receiver(self) -> PixReceiver | None:
        """Who a boleto's BR Code pays, or None when BILLING_PIX_KEY is not set (no PIX on the boleto)."""
        if not self.pix_key:
            return None
        return PixReceiver(self.pix_key, self.pix_merchant, self.pix_merchant_city)

    @property
    def api_token_list(self) -> tuple[str, ...]:
        """The API's bearer tokens; empty when the API is open (and so bound to loopback)."""
        return tuple(token for token in (part.strip() for part in self.api_tokens.split(",")) if token)

    @property
    def inbox_dir(self) -> UPath:
        return self.inbox or self.data_dir / "inbox"

    @property
    def archive_dir(self) -> UPath:
        return self.data_dir / "archive"

    @property
    def rejects_dir(self) -> UPath:
        return self.data_dir / "rejects"

    @property
    def reports_dir(self) -> UPath:
        return self.data_dir / "reports"

    @property
    def outbox_dir(self) -> UPath:
        return self.data_dir / "outbox"

    @property
    def suppressions_path(self) -> UPath:
        return self.suppression_file or self.data_dir / "suppressions.txt"

    @property
    def boletos_dir(self) -> UPath:
        return self.data_dir / "boletos"

    @property
    def staging_dir(self) -> UPath:
        return self.data_dir / "staging"

    @property
    def remessas_dir(self) -> UPath:
        return self.data_dir / "remessas"

    @property
    def retornos_dir(self) -> UPath:
        return self.data_dir / "retornos"

    @property
    def retorno_inbox_dir(self) -> UPath:
        """Where a bank's retorno files are dropped: ``<inbox>/retorno/``. A retorno dropped into the inbox itself is
        recognised by its CNAB 240 header."""
        return self.inbox_dir / "retorno"

    def remessa_path(self, file_name: str) -> UPath:
        """A remessa written for the bank: ``<data_dir>/remessas/<bank>-<account>-<NSA>.rem``."""
        return self.remessas_dir / file_name

    def retorno_archive_path(self, file_id: str) -> UPath:
        """Where a registered retorno is kept: ``<data_dir>/retornos/<file_id>.ret``."""
        return self.retornos_dir / f"{file_id}.ret"

    def retorno_report_path(self, file_id: str) -> UPath:
        """The JSON report of a retorno's import: ``<data_dir>/retornos/<file_id>.report.json``."""
        return self.retornos_dir / f"{file_id}.report.json"

    def archive_path(self, file_id: str) -> UPath:
        """Where an accepted inbox file is kept: ``<data_dir>/archive/<file_id>.csv``."""
        return self.archive_dir / f"{file_id}.csv"

    def rejects_path(self, file_id: str) -> UPath:
        """The rejected rows of a file: ``<data_dir>/rejects/<file_id>.csv``."""
        return self.rejects_dir / f"{file_id}.csv"

    def report_path(self, file_id: str) -> UPath:
        """The JSON report of a file: ``<data_dir>/reports/<file_id>.json``."""
        return self.reports_dir / f"{file_id}.json"

    def boleto_archive_path(self, chunk_key: str) -> UPath:
        """The zip of a chunk's boleto PDFs: ``<data_dir>/boletos/<chunk_key>.zip``."""
        return self.boletos_dir / f"{chunk_key}.zip"

    @property
    def in_bucket(self) -> bool:
        """True when the runtime folders are objects in a bucket rather than folders on this machine's disk."""
        return is_bucket(self.data_dir)

    def ensure_dirs(self) -> None:
        """Creates the local runtime folders; a bucket has no folders to create (a prefix exists by its keys)."""
        for folder in (self.inbox_dir, self.archive_dir, self.rejects_dir, self.staging_dir, self.boletos_dir):
            if not is_bucket(folder):
                folder.mkdir(parents=True, exist_ok=True)


def _env_var(name: str, field: FieldInfo) -> str:
    """The variable pydantic-settings reads for a field: its alias, else the prefix and the upper-cased name."""
    return field.validation_alias if isinstance(field.validation_alias, str) else ENV_PREFIX + name.upper()


ENV_VARS: dict[str, str] = {name: _env_var(name, field) for name, field in Settings.model_fields.items()}
# pydantic-settings keys an aliased field's value by its alias (BILLING_BANK): errors are located by it.
_FIELD_OF_KEY: dict[str, str] = {
    field.validation_alias: name for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, str)
}



class _Environment(EnvSettingsSource):
    """The BILLING_* variables of one mapping (os.environ or the one given): exact names only, values stripped."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        present = {name: self._env[name].strip() for name in ENV_VARS.values() if name in self._env}
        return parse_env_vars(present, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _clock_time(value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise _problem(f"must be a time of day as HH:MM (e.g. 08:00), got {value!r}") from None


def _embedded_store(data_dir: UPath) -> str:
    return f"sqlite:///{data_dir / 'billing.db'}"


def demo_account() -> BeneficiaryAccount:
    """The shipped DEMO issuing account: the simulated bank answers for it alone."""
    return _default_account()


@functools.cache
def _default_account() -> BeneficiaryAccount:
    """The account of the fields' defaults (validated, so the document is normalised), computed once."""
    return Settings.from_env({}).account


def _account_problem(problem: Any) -> str:
    """A bank's complaint about the account: an AccountProblem(field, message), or a sentence naming the setting."""
    return problem if isinstance(problem, str) else f"{ENV_PREFIX}{problem.field.upper()} {problem.message}"


def _bounds(field: FieldInfo) -> str:
    low = next((item.ge for item in field.metadata if isinstance(item, Ge)), None)
    high = next((item.le for item in field.metadata if isinstance(item, Le)), None)
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else ""


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence that names the environment variable."""
    if not error["loc"]:  # the cross-field checks: already sentences naming their variables
        return error["msg"]
    key = str(error["loc"][0])
    name = _FIELD_OF_KEY.get(key, key)
    field = Settings.model_fields.get(name)
    if field is None:
        return f"{key} is not a setting"
    variable, kind, value = ENV_VARS[name], error["type"], error["input"]
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{variable} must be a whole number, got {value!r}"
    if kind in ("float_parsing", "float_type"):
        return f"{variable} must be a number {_bounds(field)}".rstrip() + f", got {value!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{variable} must be {_bounds(field)}, got {value}"
    if kind == "literal_error":
        return f"{variable} must be one of {', '.join(get_args(field.annotation))}, got {value!r}"
    if kind == "billing_setting":
        return f"{variable} {error['msg']}"
    return f"{variable}: {error['msg']} (got {value!r})"


def _settings_error(error: ValidationError) -> SettingsError:
    return SettingsError("; ".join(_describe(problem) for problem in error.errors(include_url=False)))
