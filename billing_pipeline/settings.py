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

GOVERNMENT_ID_POLICIES = ("strict", "lenient")


class SettingsError(ValueError):
    """A setting has a value the product cannot work with; the message names the variable."""


@dataclass(frozen=True)
class SettingSpec:
    env_var: str
    default: str
    description: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("BILLING_DATA_DIR", "data", "Root of the runtime folders: inbox/, archive/, rejects/, staging/."),
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
)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be between 0 and 1, got {value}")
    return value


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
            "chunk_rows": read("BILLING_CHUNK_ROWS", _positive_int),
            "government_id_policy": read("BILLING_GOVERNMENT_ID_POLICY", _policy),
            "max_reject_rate": read("BILLING_MAX_REJECT_RATE", _rate),
            "inbox_poll_seconds": read("BILLING_INBOX_POLL_SECONDS", _positive_int),
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
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    def ensure_dirs(self) -> None:
        for folder in (self.inbox_dir, self.archive_dir, self.rejects_dir, self.staging_dir):
            folder.mkdir(parents=True, exist_ok=True)
