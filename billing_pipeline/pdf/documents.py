"""From stored boleto rows to PDF files: one stamper per issuing account, one PDF per debt."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from billing_pipeline import government_id
from billing_pipeline.boleto import format_linha
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.pdf.layout import render_layout
from billing_pipeline.pdf.stamp import BoletoFields, BoletoStamper, brazilian_amount, brazilian_date


@lru_cache(maxsize=4)
def stamper_for(account: BeneficiaryAccount, demo: bool) -> BoletoStamper:
    """The layout is rendered by WeasyPrint once per account and process, then reused for every debt."""
    return BoletoStamper(render_layout(account, demo))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def boleto_fields(row: dict, processed_on: date) -> BoletoFields:
    """`row` holds a stored boleto joined with its debt (store.boletos.boleto_rows)."""
    document = government_id.normalise(str(row["government_id"]))
    kind = "CNPJ" if len(document) == 14 else "CPF"
    return BoletoFields(
        linha=format_linha(row["linha_digitavel"]),
        barcode=row["barcode"],
        nosso_numero=row["nosso_numero"],
        numero_documento=str(row["debt_id"]),
        vencimento=brazilian_date(_as_date(row["due_date"])),
        valor=brazilian_amount(row["cents"]),
        pagador=f"{row['name']} — {kind} {government_id.mask(document)}",
        data_documento=brazilian_date(_as_date(row["created_on"])),
        data_processamento=brazilian_date(processed_on),
    )


def render_pdfs(rows: Iterable[dict], account: BeneficiaryAccount, demo: bool,
                processed_on: date) -> Iterator[tuple[str, bytes]]:
    stamper = stamper_for(account, demo)
    for row in rows:
        yield str(row["debt_id"]), stamper.render(boleto_fields(row, processed_on))


def write_archive(path: Path, documents: Iterable[tuple[str, bytes]]) -> tuple[int, int]:
    """One ZIP per chunk (<debt_id>.pdf inside, stored: PDFs are compressed already), written atomically.
    Returns (documents, bytes of PDF)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    count = size = 0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        for debt_id, pdf in documents:
            archive.writestr(f"{debt_id}.pdf", pdf)
            count, size = count + 1, size + len(pdf)
    partial.replace(path)
    return count, size


@dataclass(frozen=True)
class ArchivedDocuments:
    names: set[str]
    bytes: int
    first: bytes | None


def archived_documents(path: Path) -> ArchivedDocuments | None:
    """What a chunk's archive already holds, or None when there is no readable archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            first = archive.read(entries[0]) if entries else None
            return ArchivedDocuments({e.filename for e in entries}, sum(e.file_size for e in entries), first)
    except (FileNotFoundError, zipfile.BadZipFile):
        return None


def count_pdfs(boletos_dir: Path, chunk_keys: Iterable[str]) -> int:
    total = 0
    for key in chunk_keys:
        archive = boletos_dir / f"{key}.zip"
        if archive.exists():
            with zipfile.ZipFile(archive) as opened:
                total += len(opened.namelist())
    return total
