"""From stored boleto rows to PDF files: one stamper per issuing account, one PDF per debt."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from billing_pipeline.boleto import format_linha
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.charge_terms import instruction_lines
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.money import brazilian_amount
from billing_pipeline.pdf.layout import render_layout
from billing_pipeline.pdf.qr import FixedQrEncoder, fixed_encoder, version_for_length
from billing_pipeline.pdf.stamp import BoletoFields, BoletoStamper, brazilian_date
from billing_pipeline.pix.brcode import PixReceiver, boleto_brcode, longest_brcode
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.objects import open_stream


@lru_cache(maxsize=4)
def stamper_for(account: BeneficiaryAccount, demo: bool, with_pix: bool = False) -> BoletoStamper:
    """The layout is rendered by WeasyPrint once per account and process, then reused for every debt; with PIX
    it has the QR code's box (bolepix), without it it is the plain ficha de compensação."""
    return BoletoStamper(render_layout(account, demo, with_pix))


def qr_encoder_for(receiver: PixReceiver) -> FixedQrEncoder:
    """One QR version for all of a receiver's boletos: the one that holds its longest payload."""
    return fixed_encoder(version_for_length(len(longest_brcode(receiver).encode("ascii"))))


def boleto_fields(boleto: IssuedBoleto, processed_on: date, pix_receiver: PixReceiver | None = None) -> BoletoFields:
    """The form's boxes filled from one issued boleto: the one place the two sets of names meet."""
    return BoletoFields(
        linha=format_linha(boleto.linha_digitavel),
        barcode=boleto.barcode,
        nosso_numero=boleto.nosso_numero,
        numero_documento=boleto.debt_id,
        vencimento=brazilian_date(boleto.due_date),
        valor=brazilian_amount(boleto.amount_cents),
        pagador=f"{boleto.payer_name} — {boleto.payer_document_label}",
        data_documento=brazilian_date(boleto.issued_on),
        data_processamento=brazilian_date(processed_on),
        instructions=instruction_lines(boleto.terms, boleto.due_date, boleto.amount_cents),
        pix_payload=boleto_brcode(pix_receiver, boleto) if pix_receiver is not None else None,
    )


def render_pdfs(boletos: Iterable[IssuedBoleto], account: BeneficiaryAccount, demo: bool,
                processed_on: date, pix_receiver: PixReceiver | None = None) -> Iterator[tuple[str, bytes]]:
    """Each boleto's PDF; with a PIX receiver (settings.pix_receiver) each also carries its BR Code's QR."""
    stamper = stamper_for(account, demo, pix_receiver is not None)
    qr = qr_encoder_for(pix_receiver) if pix_receiver is not None else None
    for boleto in boletos:
        yield boleto.debt_id, stamper.render(boleto_fields(boleto, processed_on, pix_receiver), qr)


def write_archive(path: AnyPath, documents: Iterable[tuple[str, bytes]]) -> tuple[int, int]:
    """One ZIP per chunk (<debt_id>.pdf inside, stored: PDFs are compressed already), written atomically.
    Returns (documents, bytes of PDF)."""
    count = size = 0
    with replaced_atomically(path) as partial, zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zipped:
        for debt_id, pdf in documents:
            zipped.writestr(f"{debt_id}.pdf", pdf)
            count, size = count + 1, size + len(pdf)
    return count, size


@dataclass(frozen=True)
class ArchivedDocuments:
    names: set[str]
    pdf_bytes: int
    first: bytes | None


def archived_documents(path: AnyPath) -> ArchivedDocuments | None:
    """What a chunk's archive already holds, or None when there is no readable archive."""
    try:
        with open_stream(path) as stream, zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            first = archive.read(entries[0]) if entries else None
            return ArchivedDocuments({e.filename for e in entries}, sum(e.file_size for e in entries), first)
    except (FileNotFoundError, zipfile.BadZipFile):
        return None


def count_pdfs(archives: Iterable[AnyPath]) -> int:
    """PDFs in these chunk archives; an archive not written (yet) counts none."""
    total = 0
    for archive in archives:
        if archive.exists():
            with open_stream(archive) as stream, zipfile.ZipFile(stream) as opened:
                total += len(opened.namelist())
    return total
