"""Every setting of Smart Billing, read once from the environment (``BILLING_*``) and validated.

Each setting has a working default so that a newcomer runs the product with no services at all; the README's
settings table and ``.env.example`` are checked against ``SETTINGS`` by the test suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_pipeline import government_id
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS

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
    SettingSpec("BILLING_CHUNK_ROWS", "50000", "Data rows per chunk partition (a 1.1M-row file gives 22 chunks)."),
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
        "How often the inbox sensor looks; a file is taken after two looks that see the same size and mtime.",
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


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be between 0 and 1, got {value}")
    return value


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
    chunk_rows: int = 50_000
    government_id_policy: str = "strict"
    max_reject_rate: float = 0.05
    inbox_poll_seconds: int = 2
    bank_code: str = "341"
    agencia: str = "0057"
    conta: str = "12345"
    carteira: str = "109"
    convenio: str = ""
    beneficiary_name: str = "DEMO Smart Billing Beneficiário (exemplo, não pagar)"
    beneficiary_document: str = "11222333000181"
    min_days_to_due: int = 3

    def __post_init__(self) -> None:
        bank = BANKS.get(self.bank_code)
        if bank is None:
            raise SettingsError(f"BILLING_BANK must be one of {', '.join(sorted(BANKS))}, got {self.bank_code!r}")
        problems = bank.check_account(self.account)
        if government_id.kind(self.beneficiary_document) is None:
            problems.append(f"BILLING_BENEFICIARY_DOCUMENT is not a valid CNPJ or CPF: {self.beneficiary_document!r}")
        if not self.beneficiary_name.strip():
            problems.append("BILLING_BENEFICIARY_NAME must not be empty")
        if problems:
            raise SettingsError(f"the issuing account for {bank.name} is not usable: " + "; ".join(problems))

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
            "max_reject_rate": read("BILLING_MAX_REJECT_RATE", _rate),
            "inbox_poll_seconds": read("BILLING_INBOX_POLL_SECONDS", _int_at_least(1)),
            "bank_code": read("BILLING_BANK", _text),
            "agencia": read("BILLING_AGENCIA", _text),
            "conta": read("BILLING_CONTA", _text),
            "carteira": read("BILLING_CARTEIRA", _text),
            "convenio": read("BILLING_CONVENIO", _text),
            "beneficiary_name": read("BILLING_BENEFICIARY_NAME", _text),
            "beneficiary_document": read("BILLING_BENEFICIARY_DOCUMENT", _document),
            "min_days_to_due": read("BILLING_MIN_DAYS_TO_DUE", _int_at_least(0)),
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
    def boletos_dir(self) -> Path:
        return self.data_dir / "boletos"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    def ensure_dirs(self) -> None:
        for folder in (self.inbox_dir, self.archive_dir, self.rejects_dir, self.staging_dir, self.boletos_dir):
            folder.mkdir(parents=True, exist_ok=True)
