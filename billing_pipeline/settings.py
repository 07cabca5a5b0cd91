"""Every setting of Smart Billing, read once from the environment (``BILLING_*``) and validated.

Each setting has a working default so that a newcomer runs the product with no services at all; the README's
settings table and ``.env.example`` are checked against ``SETTINGS`` by the test suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from billing_pipeline import government_id
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.mail.smtp_url import parse_smtp_url

GOVERNMENT_ID_POLICIES = ("strict", "lenient")


class SettingsError(ValueError):
    """A setting has a value the product cannot work with; the message names the variable."""


@dataclass(frozen=True)
class SettingSpec:
    env_var: str
    default: str
    description: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "BILLING_DATA_DIR", "data", "Root of the runtime folders: inbox/, archive/, rejects/, staging/, boletos/."
    ),
    SettingSpec(
        "BILLING_DATABASE_URL",
        "sqlite:///<BILLING_DATA_DIR>/billing.db",
        "The store. SQLite for the embedded default, `postgresql+psycopg://user@host:5432/db` in production.",
    ),
    SettingSpec(
        "BILLING_CHUNK_ROWS",
        "100000",
        "Data rows per chunk partition (a 1.1M-row file gives 11 chunks, one run each).",
    ),
    SettingSpec(
        "BILLING_GOVERNMENT_ID_POLICY",
        "strict",
        "`strict`: governmentId must be a valid CPF or CNPJ (alphanumeric CNPJ included); "
        "`lenient`: any 1-14 digits (the public Kanastra file).",
    ),
    SettingSpec(
        "BILLING_MAX_REJECT_RATE",
        "0.05",
        "A chunk whose rejected/rows exceeds this fails its `reject_rate_below_threshold` check.",
    ),
    SettingSpec(
        "BILLING_INBOX_POLL_SECONDS",
        "2",
        "How often the inbox sensor looks; a file is taken after two looks that see the same size and mtime, or at"
        " once when its mtime is already this old.",
    ),
    SettingSpec(
        "BILLING_DELIVERY_HOLD_SECONDS",
        "600",
        "Chunk deliveries (PDFs, e-mails) wait while a file is being split or stored, so storing gets the machine;"
        " a delivery waiting longer than this starts anyway.",
    ),
    SettingSpec(
        "BILLING_BANK",
        "341",
        "Issuing bank: 001 Banco do Brasil, 033 Santander, 104 Caixa (SIGCB), 237 Bradesco, 341 Itaú.",
    ),
    SettingSpec("BILLING_AGENCIA", "0057", "Agência (4 digits). The default is a DEMO account."),
    SettingSpec("BILLING_CONTA", "12345", "Conta without its DV (Itaú 5 digits, Bradesco 7). DEMO default."),
    SettingSpec("BILLING_CARTEIRA", "109", "Carteira (Itaú 3 digits, Bradesco/BB 2, Santander 3). DEMO default."),
    SettingSpec(
        "BILLING_CONVENIO",
        "",
        "Convênio (BB, 7 digits) or código do beneficiário (Caixa 6, Santander 7); unused by Itaú and Bradesco.",
    ),
    SettingSpec(
        "BILLING_BENEFICIARY_NAME",
        "DEMO Smart Billing Beneficiário (exemplo, não pagar)",
        "Beneficiário printed on boletos. The default marks every boleto as a demo.",
    ),
    SettingSpec(
        "BILLING_BENEFICIARY_DOCUMENT",
        "11.222.333/0001-81",
        "Beneficiário's CNPJ (or CPF). The default is a well-known example CNPJ, not a real company.",
    ),
    SettingSpec(
        "BILLING_SMTP_URL",
        "",
        "Empty: notices go to <BILLING_DATA_DIR>/outbox/*.eml. Else `smtp://host:25`, "
        "`smtp+starttls://user:pass@host:587` or `smtps://user:pass@host:465`.",
    ),
    SettingSpec("BILLING_MAIL_FROM", "DEMO Smart Billing <cobranca@example.com>", "From: of every notice."),
    SettingSpec("BILLING_BENEFICIARY_CONTACT", "cobranca@example.com", "The contact printed in every notice."),
    SettingSpec("BILLING_SMTP_RATE", "20", "At most this many messages per second per worker (0: no limit)."),
    SettingSpec("BILLING_SMTP_TIMEOUT", "30", "Seconds to wait for the SMTP server before retrying."),
    SettingSpec(
        "BILLING_SMTP_MAX_ATTEMPTS",
        "5",
        "Tries per message inside a run (4xx, timeouts, dropped connections); what is left is retried by the step.",
    ),
    SettingSpec("BILLING_SMTP_BACKOFF_SECONDS", "1", "First wait between tries; doubles each try, with jitter."),
    SettingSpec(
        "BILLING_SMTP_STEP_RETRIES",
        "5",
        "Retries of the `notifications` step while notices are still pending after the in-step tries (0: none).",
    ),
    SettingSpec(
        "BILLING_SMTP_STEP_RETRY_SECONDS",
        "5",
        "First wait before the step is retried; doubles each retry, with jitter (5 retries: about 2.5 minutes of waits).",
    ),
    SettingSpec(
        "BILLING_REDELIVERY_FIRST_WAIT_SECONDS",
        "60",
        "A chunk whose delivery run failed with notices still pending is delivered again this long after, then at"
        " doubling intervals up to BILLING_REDELIVERY_MAX_WAIT_SECONDS, until none is pending.",
    ),
    SettingSpec(
        "BILLING_REDELIVERY_MAX_WAIT_SECONDS",
        "3600",
        "The longest wait between two automatic deliveries of a chunk whose notices wait on the mail server.",
    ),
    SettingSpec(
        "BILLING_SUPPRESSION_FILE",
        "<BILLING_DATA_DIR>/suppressions.txt",
        "Addresses never to write to (hard bounces, opt-outs), one per line; their notices become `suppressed`.",
    ),
    SettingSpec(
        "BILLING_MIN_DAYS_TO_DUE",
        "3",
        "A boleto is due on the debt's due date when that is at least this many days ahead, else today + this.",
    ),
)


def _int_at_least(minimum: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, got {value}")
        return value

    return parse


def _float_between(minimum: float, maximum: float = float("inf")) -> Callable[[str, str], float]:
    bounds = f"between {minimum:g} and {maximum:g}" if maximum != float("inf") else f"at least {minimum:g}"

    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number {bounds}, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{name} must be {bounds}, got {value}")
        return value

    return parse


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _document(name: str, raw: str) -> str:
    return government_id.normalise(raw)


def _policy(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in GOVERNMENT_ID_POLICIES:
        raise SettingsError(f"{name} must be one of {', '.join(GOVERNMENT_ID_POLICIES)}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    chunk_rows: int = 100_000
    government_id_policy: str = "strict"
    max_reject_rate: float = 0.05
    inbox_poll_seconds: int = 2
    delivery_hold_seconds: int = 600
    bank_code: str = "341"
    agencia: str = "0057"
    conta: str = "12345"
    carteira: str = "109"
    convenio: str = ""
    beneficiary_name: str = "DEMO Smart Billing Beneficiário (exemplo, não pagar)"
    beneficiary_document: str = "11222333000181"
    min_days_to_due: int = 3
    smtp_url: str = ""
    mail_from: str = "DEMO Smart Billing <cobranca@example.com>"
    beneficiary_contact: str = "cobranca@example.com"
    smtp_rate: float = 20.0
    smtp_timeout: float = 30.0
    smtp_max_attempts: int = 5
    smtp_backoff_seconds: float = 1.0
    smtp_step_retries: int = 5
    smtp_step_retry_seconds: float = 5.0
    redelivery_first_wait_seconds: float = 60.0
    redelivery_max_wait_seconds: float = 3600.0
    suppression_file: Path | None = None

    def __post_init__(self) -> None:
        bank = BANKS.get(self.bank_code)
        if bank is None:
            raise SettingsError(f"BILLING_BANK must be one of {', '.join(sorted(BANKS))}, got {self.bank_code!r}")
        problems = bank.check_account(self.account)
        if government_id.kind(self.beneficiary_document) is None:
            problems.append(f"BILLING_BENEFICIARY_DOCUMENT is not a valid CNPJ or CPF: {self.beneficiary_document!r}")
        if not self.beneficiary_name.strip():
            problems.append("BILLING_BENEFICIARY_NAME must not be empty")
        if self.smtp_url:
            try:
                parse_smtp_url(self.smtp_url)
            except ValueError as error:
                problems.append(str(error))
        if self.redelivery_max_wait_seconds < self.redelivery_first_wait_seconds:
            problems.append("BILLING_REDELIVERY_MAX_WAIT_SECONDS must not be less than "
                            "BILLING_REDELIVERY_FIRST_WAIT_SECONDS")
        if "@" not in parseaddr(self.mail_from)[1]:
            problems.append(f"BILLING_MAIL_FROM has no address: {self.mail_from!r}")
        if problems:
            raise SettingsError("settings are not usable: " + "; ".join(problems))

    @property
    def is_demo_account(self) -> bool:
        """True while the issuing account is the shipped example: documents then say they are not payable."""
        defaults = Settings(data_dir=self.data_dir, database_url=self.database_url)
        return self.account == defaults.account

    @property
    def account(self) -> BeneficiaryAccount:
        return BeneficiaryAccount(self.bank_code, self.agencia, self.conta, self.carteira, self.convenio,
                                  self.beneficiary_name, self.beneficiary_document)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env

        def read(name: str, parse: Callable[[str, str], Any]) -> Any:
            spec = next(s for s in SETTINGS if s.env_var == name)
            raw = env.get(name, "").strip() or spec.default
            return parse(name, raw)

        data_dir = overrides.pop("data_dir", None) or Path(env.get("BILLING_DATA_DIR", "").strip() or "data")
        data_dir = Path(data_dir).expanduser().resolve()
        database_url = env.get("BILLING_DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'billing.db'}"
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "chunk_rows": read("BILLING_CHUNK_ROWS", _int_at_least(1)),
            "government_id_policy": read("BILLING_GOVERNMENT_ID_POLICY", _policy),
            "max_reject_rate": read("BILLING_MAX_REJECT_RATE", _float_between(0, 1)),
            "inbox_poll_seconds": read("BILLING_INBOX_POLL_SECONDS", _int_at_least(1)),
            "delivery_hold_seconds": read("BILLING_DELIVERY_HOLD_SECONDS", _int_at_least(0)),
            "bank_code": read("BILLING_BANK", _text),
            "agencia": read("BILLING_AGENCIA", _text),
            "conta": read("BILLING_CONTA", _text),
            "carteira": read("BILLING_CARTEIRA", _text),
            "convenio": read("BILLING_CONVENIO", _text),
            "beneficiary_name": read("BILLING_BENEFICIARY_NAME", _text),
            "beneficiary_document": read("BILLING_BENEFICIARY_DOCUMENT", _document),
            "min_days_to_due": read("BILLING_MIN_DAYS_TO_DUE", _int_at_least(0)),
            "smtp_url": read("BILLING_SMTP_URL", _text),
            "mail_from": read("BILLING_MAIL_FROM", _text),
            "beneficiary_contact": read("BILLING_BENEFICIARY_CONTACT", _text),
            "smtp_rate": read("BILLING_SMTP_RATE", _float_between(0)),
            "smtp_timeout": read("BILLING_SMTP_TIMEOUT", _float_between(0)),
            "smtp_max_attempts": read("BILLING_SMTP_MAX_ATTEMPTS", _int_at_least(1)),
            "smtp_backoff_seconds": read("BILLING_SMTP_BACKOFF_SECONDS", _float_between(0)),
            "smtp_step_retries": read("BILLING_SMTP_STEP_RETRIES", _int_at_least(0)),
            "smtp_step_retry_seconds": read("BILLING_SMTP_STEP_RETRY_SECONDS", _float_between(0)),
            "redelivery_first_wait_seconds": read("BILLING_REDELIVERY_FIRST_WAIT_SECONDS", _float_between(1)),
            "redelivery_max_wait_seconds": read("BILLING_REDELIVERY_MAX_WAIT_SECONDS", _float_between(1)),
            "suppression_file": Path(env["BILLING_SUPPRESSION_FILE"]) if env.get("BILLING_SUPPRESSION_FILE") else None,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def rejects_dir(self) -> Path:
        return self.data_dir / "rejects"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def suppressions_path(self) -> Path:
        return self.suppression_file or self.data_dir / "suppressions.txt"

    @property
    def boletos_dir(self) -> Path:
        return self.data_dir / "boletos"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    def ensure_dirs(self) -> None:
        for folder in (self.inbox_dir, self.archive_dir, self.rejects_dir, self.staging_dir, self.boletos_dir):
            folder.mkdir(parents=True, exist_ok=True)
