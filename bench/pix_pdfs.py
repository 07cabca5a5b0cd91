"""Boleto PDFs with a PIX QR code (bolepix) vs without, same debts; and what segno alone costs per QR code.

    python -m bench.pix_pdfs [--debts 5000] [--segno-codes 200]

Targets: <= 0.5 ms per PDF with the QR code, on one core (issue 18); <= 10 KB per PDF with and without it
(issue 19). Both wall-clock and process CPU time are printed: on a busy machine the wall clock counts the other
processes' time too. Then where one PDF's bytes go, object by object.
"""

from __future__ import annotations

import argparse
import platform
import re
import time
from dataclasses import replace

import segno

from bench.boleto_pdfs import debts
from billing_pipeline.pdf.documents import qr_encoder_for, stamper_for
from billing_pipeline.pdf.qr import MASK
from billing_pipeline.pdf.stamp import BoletoFields
from billing_pipeline.pix.brcode import PixReceiver, brcode, txid
from billing_pipeline.settings import Settings

RECEIVER = PixReceiver("123e4567-e12b-12d1-a456-426655440000", "Cobranças Exemplo Ltda", "São Paulo")


def with_payload(fields: BoletoFields) -> BoletoFields:
    """The fields with their BR Code, as documents.boleto_fields computes it (boleto_brcode) for every boleto."""
    return replace(fields, pix_payload=brcode(RECEIVER.key, RECEIVER.merchant_name, RECEIVER.merchant_city,
                                              int(fields.valor.replace(".", "").replace(",", "")),
                                              txid(fields.nosso_numero)))


def measure(render, items) -> tuple[float, float, float]:
    """(wall ms, CPU ms, KB) per item."""
    wall, cpu = time.perf_counter(), time.process_time()
    sizes = [len(render(item)) for item in items]
    return ((time.perf_counter() - wall) * 1000 / len(items), (time.process_time() - cpu) * 1000 / len(items),
            sum(sizes) / len(sizes) / 1024)


def byte_breakdown(pdf: bytes) -> list[tuple[str, int]]:
    """(object, bytes) of a PDF written in one piece, in file order: header, each object, cross-reference."""
    starts = [(m.start(), m.group(1).decode()) for m in re.finditer(rb"(?m)^(\d+) 0 obj", pdf)]
    xref = pdf.rindex(b"\nxref\n") + 1
    names = {b"/Catalog": "catalog", b"/Pages": "pages", b"/Page": "page", b"/Font": "font"}
    rows = [("header", starts[0][0])]
    for (start, number), end in zip(starts, [s for s, _ in starts[1:]] + [xref], strict=True):
        body = pdf[start:end]
        kind = re.search(rb"/Type (/\w+)", body)
        label = names.get(kind.group(1), "object") if kind else (
            "stream: the debt's text, bars (and QR)" if number == starts[-1][1] else "stream: the layout's drawing")
        if label == "font":
            label = "font " + re.search(rb"/BaseFont /([\w-]+)", body).group(1).decode()  # type: ignore[union-attr]
        rows.append((f"{number} {label}", end - start))
    rows.append(("xref table and trailer", len(pdf) - xref))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--debts", type=int, default=5000)
    parser.add_argument("--segno-codes", type=int, default=200)
    args = parser.parse_args()
    settings = Settings.from_env({})
    plain_items = debts(args.debts, settings)
    plain = stamper_for(settings.account, settings.is_demo_account)
    bolepix = stamper_for(settings.account, settings.is_demo_account, True)
    started = time.perf_counter()
    encoder = qr_encoder_for(RECEIVER)
    tables_ms = (time.perf_counter() - started) * 1000
    payloads = [str(with_payload(fields).pix_payload).encode() for fields in plain_items]

    rows = [
        ("PDF without PIX", args.debts, measure(plain.render, plain_items)),
        ("PDF with the PIX QR code (and its BR Code)", args.debts,
         measure(lambda f: bolepix.render(with_payload(f), encoder), plain_items)),
        ("  its QR modules alone (pdf/qr.py)", args.debts, measure(encoder.matrix, payloads) [:2] + (0.0,)),
        ("  segno.make, version and mask fixed", args.segno_codes, measure(
            lambda p: segno.make(p, error="m", version=encoder.version, mask=MASK, boost_error=False, mode="byte")
            .matrix, payloads[: args.segno_codes])[:2] + (0.0,)),
        ("  segno.make, version and mask chosen", args.segno_codes, measure(
            lambda p: segno.make(p, error="m").matrix, payloads[: args.segno_codes])[:2] + (0.0,)),
    ]
    print(f"{platform.machine()}, Python {platform.python_version()}, segno {segno.__version__}; QR version "
          f"{encoder.version} ({encoder.size} modules), level M, mask {MASK}; its tables built in {tables_ms:.0f} ms")
    print(f"{'':<44}{'count':>7}{'wall ms':>10}{'CPU ms':>9}{'KB/PDF':>9}")
    for label, count, (wall, cpu, size) in rows:
        print(f"{label:<44}{count:>7}{wall:>10.3f}{cpu:>9.3f}{size:>9.1f}" if size else
              f"{label:<44}{count:>7}{wall:>10.3f}{cpu:>9.3f}")
    examples = (plain.render(plain_items[0]), bolepix.render(with_payload(plain_items[0]), encoder))
    print(f"\nbytes of one PDF{'':<24}{'without':>10}{'with PIX':>10}")
    for (label, without), (_, with_pix) in zip(*map(byte_breakdown, examples), strict=True):
        print(f"{label:<40}{without:>10}{with_pix:>10}")
    print(f"{'total':<40}{len(examples[0]):>10}{len(examples[1]):>10}")


if __name__ == "__main__":
    main()
