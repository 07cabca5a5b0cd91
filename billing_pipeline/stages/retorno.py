"""Retorno: a bank's answer file, registered by its sha256 and archived as `<data>/retornos/<sha256>.ret`, then
applied to the account's boletos, with a JSON report beside it."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, RowMapping
from upath import UPath

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.errors import CnabError
from billing_pipeline.cnab.reader import CnabFile, read_cnab
from billing_pipeline.ingest.inbox import InboxEntry, archive, copy_to_archive, remove_from_inbox, sha256_of
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ReceivedVia, RetornoStatus
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.objects import exists, read_bytes
from billing_pipeline.store import retornos as store

NOT_RETORNO = "NOT_RETORNO"  # a CNAB 240 remessa where a retorno was expected
OTHER_BANK = "OTHER_BANK"  # a retorno of another bank than the configured account's
DUPLICATE_RETORNO = "DUPLICATE_RETORNO"  # other bytes (line ends, blanks), the same records as one imported
OTHER_ACCOUNT = "OTHER_ACCOUNT"  # the configured bank's, for another agência, conta, convênio or beneficiary


@dataclass(frozen=True)
class RetornoRegistration:
    file_id: str
    original_name: str
    new: bool  # False: the same bytes were registered before, and nothing changed
    status: RetornoStatus

    @property
    def processed(self) -> bool:
        """Its import has run (applied, or rejected): the same bytes again have nothing new to say."""
        return self.status != RetornoStatus.REGISTERED


def register_retorno(engine: Engine, settings: Settings, source: AnyPath | InboxEntry, original_name: str | None = None,
                     received_via: ReceivedVia = ReceivedVia.INBOX, keep_original: bool = False) -> RetornoRegistration:
    """Record the retorno and move it (or, with `keep_original`, copy it) to retornos/<sha256>.ret, as a CSV's
    registration does (stages.register_stage): a file's row is written before the move, so a crash between them
    leaves it to be archived at the next look as the same first arrival; an inbox object is copied server-side,
    registered, then removed. Known bytes are only removed from where they came."""
    if isinstance(source, InboxEntry) and source.complete:
        file_id = sha256_of(source.path)
        copy_to_archive(source, settings.retorno_archive_path(file_id))
        name = original_name or source.path.name
        arrival = store.register_retorno_file(engine, file_id, name, source.size, received_via)
        if not keep_original:
            remove_from_inbox(source)
        return RetornoRegistration(file_id, name, arrival.new, arrival.status)
    path = source.path if isinstance(source, InboxEntry) else source
    file_id = sha256_of(path)
    destination = settings.retorno_archive_path(file_id)
    name = original_name or path.name
    arrival = store.register_retorno_file(engine, file_id, name, path.stat().st_size, received_via,
                                          archived=exists(destination))
    archive(path, destination, keep_original=keep_original)
    return RetornoRegistration(file_id, name, arrival.new, arrival.status)


def retornos_to_import(engine: Engine) -> list[RowMapping]:
    """Registered retornos not imported yet (file_id, original_name), oldest first."""
    return store.retornos_to_import(engine)


@dataclass(frozen=True)
class RetornoOutcome:
    file_id: str
    original_name: str
    status: RetornoStatus
    report_path: UPath
    titles: int = 0
    applied: int = 0  # lines recorded now
    already_applied: int = 0  # lines an earlier import recorded
    unmatched: int = 0
    moved: int = 0  # lines that changed their boleto's status
    by_movement: dict[str, dict] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # by phase: read, match, fold, events, states, commit...

    @property
    def error(self) -> str | None:
        """Why it was rejected, as `CODE: sentence`; None when it was applied."""
        return f"{self.error_code}: {self.error_message}" if self.error_code else None


def retorno_stage(engine: Engine, settings: Settings, file_id: str) -> RetornoOutcome:
    """Apply a registered retorno to the configured account's boletos. An unreadable file, a remessa, or another
    bank's retorno is rejected with a stable code and nothing of it is applied. Importing it again adds nothing."""
    row = store.get_retorno(engine, file_id)
    if row is None:
        raise LookupError(f"retorno {file_id} is not registered in the store")
    account = settings.account
    report_path = settings.retorno_report_path(file_id)
    base = {"file_id": file_id, "original_name": row["original_name"]}
    if (before := store.imported_before(engine, file_id)) is not None:
        # Applied once already, whole: nothing to read, nothing applied again; its report stays the import's.
        return RetornoOutcome(file_id, row["original_name"], RetornoStatus.PROCESSED, report_path, before.titles, 0,
                              before.already_applied, before.unmatched, 0, before.by_movement, before.by_status,
                              before.warnings)
    started = time.perf_counter()
    data = read_bytes(settings.retorno_archive_path(file_id))
    try:
        cnab = read_cnab(data)
    except CnabError as error:
        return _rejected(engine, report_path, base, str(error.code), error.message, None, [])
    header = store.header_values(cnab.bank_code, cnab.nsa, cnab.generated_on, cnab.kind)
    warnings = list(cnab.warnings)
    if cnab.kind != "retorno":
        return _rejected(engine, report_path, base, NOT_RETORNO,
                         "this CNAB 240 file is a remessa, not a retorno: nothing applied", header, warnings)
    if cnab.bank_code != account.bank_code:
        return _rejected(engine, report_path, base, OTHER_BANK,
                         f"this retorno is from bank {cnab.bank_code}, the account's bank is {account.bank_code}: "
                         "nothing applied", header, warnings)
    if mismatches := other_account(cnab, account):
        return _rejected(engine, report_path, base, OTHER_ACCOUNT,
                         f"this retorno is for another account of bank {cnab.bank_code} ({'; '.join(mismatches)}): "
                         "nothing applied", header, warnings)
    if (first := store.same_records_as(engine, file_id, content_key(cnab))) is not None:
        return _rejected(engine, report_path, base, DUPLICATE_RETORNO,
                         f"the same records as retorno {str(first['file_id']).strip()} ({first['original_name']}), "
                         "imported before, saved with other line ends or blanks: nothing applied again",
                         header, warnings)
    read = time.perf_counter() - started
    applied = store.apply_retorno(engine, account.sequence_name, file_id, cnab.titles, data, header,
                                  warnings)
    outcome = RetornoOutcome(file_id, row["original_name"], RetornoStatus.PROCESSED, report_path, applied.titles,
                             applied.applied, applied.already_applied, applied.unmatched, applied.moved,
                             applied.by_movement, applied.by_status, applied.warnings,
                             seconds={"read": read, **applied.seconds})
    _write_report(report_path, {
        **base, "status": RetornoStatus.PROCESSED.value, "bank_code": cnab.bank_code, "nsa": cnab.nsa,
        "generated_on": str(cnab.generated_on) if cnab.generated_on else None, "account_key": account.sequence_name,
        "titles": applied.titles, "applied": applied.applied, "already_applied": applied.already_applied,
        "unmatched": applied.unmatched, "moved": applied.moved, "by_movement": applied.by_movement,
        "by_status": applied.by_status, "unmatched_lines": applied.unmatched_lines,
        "unmatched_lines_shown": len(applied.unmatched_lines), "warnings": applied.warnings, "error": None,
    })
    return outcome


def _rejected(engine: Engine, report_path: UPath, base: dict, code: str, message: str, header: dict | None,
              warnings: list[str]) -> RetornoOutcome:
    store.record_retorno_rejected(engine, base["file_id"], code, message, header, warnings)
    _write_report(report_path, {**base, "status": RetornoStatus.REJECTED.value, **{
        key: (str(value) if key == "generated_on" and value else value) for key, value in (header or {}).items()},
        "titles": 0, "applied": 0, "already_applied": 0, "unmatched": 0, "warnings": warnings,
        "error": {"code": code, "message": message}})
    return RetornoOutcome(base["file_id"], base["original_name"], RetornoStatus.REJECTED, report_path,
                          warnings=warnings, error_code=code, error_message=message)


def _write_report(path: UPath, report: dict) -> None:
    with replaced_atomically(path) as partial:
        partial.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def other_account(cnab: CnabFile, account: BeneficiaryAccount) -> list[str]:
    """What in a retorno's header names another account than `account`: agência, conta, convênio, beneficiary
    document, each compared where the header carries it (banks leave some blank or zero)."""
    mismatches = []
    for name, theirs, ours in (("agência", cnab.agencia, account.agencia), ("conta", cnab.conta, account.conta),
                               ("convênio", cnab.convenio, account.convenio),
                               ("beneficiary", cnab.company_document, account.beneficiary_document)):
        theirs, ours = _significant(theirs), _significant(ours)
        if theirs and ours and theirs != ours:
            mismatches.append(f"{name} {theirs}, ours {ours}")
    return mismatches


def _significant(value: str) -> str:
    return value.strip().lstrip("0")


# What identifies a retorno's records, read: its header and, per title, what the bank said of it.
_CONTENT_COLUMNS = ("line_number", "movement_code", "nosso_numero", "amount_cents", "paid_cents", "fee_cents",
                    "payment_date", "credit_date", "reasons", "company_use")


def content_key(cnab: CnabFile) -> str:
    """A retorno's records, whatever line ends, trailing blanks or encoding its bytes have: the sha256 of its header
    fields and of its titles' values, hashed column-wise (pandas)."""
    digest = hashlib.sha256(repr((cnab.bank_code, cnab.nsa, str(cnab.generated_on), cnab.agencia, cnab.conta,
                                  cnab.convenio, cnab.lines)).encode())
    columns = [name for name in _CONTENT_COLUMNS if name in cnab.titles.columns]
    digest.update(pd.util.hash_pandas_object(cnab.titles[columns], index=False).to_numpy().tobytes())
    return digest.hexdigest()
