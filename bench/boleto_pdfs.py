"""One boleto PDF per debt: our stamped layout vs WeasyPrint one document per debt vs reportlab, same debts.

    python -m bench.boleto_pdfs [--debts 5000] [--weasyprint-debts 30] [--reportlab-debts 1000]

Targets (issue "Boleto documents"): <= 0.5 ms per PDF on one core, >= 400x WeasyPrint per document; <= 10 KB.
"""

from __future__ import annotations

import argparse
import io
import platform
import re
import time
from datetime import date

import numpy as np
import weasyprint
from reportlab.graphics.barcode.common import I2of5
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from billing_pipeline.boleto.vectorized import boleto_numbers
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.pdf.documents import boleto_fields, stamper_for
from billing_pipeline.pdf.layout import TEXT_FIELDS, html
from billing_pipeline.pdf.stamp import NARROW_BAR, BoletoFields, itf_bars
from billing_pipeline.settings import Settings

FIELD_VALUES = {
    "linha_recibo": "linha", "linha": "linha", "nosso_numero_recibo": "nosso_numero",
    "nosso_numero": "nosso_numero", "numero_documento_recibo": "numero_documento",
    "numero_documento": "numero_documento", "vencimento_recibo": "vencimento", "vencimento": "vencimento",
    "valor_recibo": "valor", "valor": "valor", "pagador_recibo": "pagador", "pagador": "pagador",
    "data_documento": "data_documento", "data_processamento": "data_processamento",
}


def debts(count: int, settings: Settings) -> list[BoletoFields]:
    rng = np.random.default_rng(7)
    cents = rng.integers(1_000, 5_000_000, count)
    dues = np.datetime64("2026-12-05") + rng.integers(0, 400, count).astype("timedelta64[D]")
    numbers = boleto_numbers(settings.account, np.arange(1, count + 1), cents, dues)
    return [
        boleto_fields(IssuedBoleto(
            debt_id=f"00000000-0000-4000-8000-{i:012d}", nosso_numero=str(numbers.nosso_numero[i]),
            barcode=str(numbers.barcode[i]), linha_digitavel=str(numbers.linha_digitavel[i]),
            due_date=date.fromisoformat(str(dues[i])), issued_on=date(2026, 11, 29), amount_cents=int(cents[i]),
            payer_name=f"Pagador Número {i}", payer_document="52998224725",
        ), date(2026, 11, 29))
        for i in range(count)
    ]


def weasyprint_document(template: str, fields: BoletoFields) -> bytes:
    page = template
    for field in TEXT_FIELDS:
        value = getattr(fields, FIELD_VALUES[field])
        page = page.replace(f'id="{field}"></span>', f'id="{field}">{value}</span>')
    bars = "".join(f'<rect x="{s}" y="0" width="{w}" height="1"/>' for s, w in itf_bars(fields.barcode))
    svg = f'<svg viewBox="0 0 405 1" preserveAspectRatio="none" width="103mm" height="13mm">{bars}</svg>'
    page = page.replace('id="barcode"></div>', f'id="barcode">{svg}</div>')
    return weasyprint.HTML(string=page).write_pdf()


def reportlab_document(fields: BoletoFields, labels: list[str]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(210 * mm, 297 * mm))
    pdf.setFont("Helvetica", 6)
    for row, label in enumerate(labels):  # the static text a boleto carries
        pdf.drawString(15 * mm + (row % 4) * 45 * mm, 280 * mm - (row // 4) * 7 * mm, label)
    for row in range(12):
        pdf.line(12 * mm, 270 * mm - row * 8 * mm, 198 * mm, 270 * mm - row * 8 * mm)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(80 * mm, 285 * mm, fields.linha)
    pdf.setFont("Helvetica", 8)
    for position, value in enumerate((fields.nosso_numero, fields.numero_documento, fields.vencimento,
                                      fields.valor, fields.pagador, fields.data_documento)):
        pdf.drawString(15 * mm + (position % 3) * 60 * mm, 200 * mm - (position // 3) * 8 * mm, value)
    I2of5(fields.barcode, barWidth=NARROW_BAR, ratio=3, barHeight=13 * mm, checksum=0,
          bearers=0).drawOn(pdf, 17 * mm, 120 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def measure(render, items) -> tuple[float, float]:
    started = time.perf_counter()
    sizes = [len(render(item)) for item in items]
    return (time.perf_counter() - started) * 1000 / len(items), sum(sizes) / len(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--debts", type=int, default=5000)
    parser.add_argument("--weasyprint-debts", type=int, default=30)
    parser.add_argument("--reportlab-debts", type=int, default=1000)
    args = parser.parse_args()
    settings = Settings.from_env({})
    items = debts(args.debts, settings)
    started = time.perf_counter()
    stamper = stamper_for(settings.account, settings.is_demo_account)
    layout_ms = (time.perf_counter() - started) * 1000
    template = html(settings.account, settings.is_demo_account)
    labels = re.findall(r"<label>([^<]+)</label>", template) * 2

    ours = measure(stamper.render, items)
    weasy = measure(lambda f: weasyprint_document(template, f), items[: args.weasyprint_debts])
    report = measure(lambda f: reportlab_document(f, labels), items[: args.reportlab_debts])
    print(f"{platform.machine()}, Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}; "
          f"layout rendered once in {layout_ms:.0f} ms")
    print(f"{'method':<42}{'PDFs':>7}{'ms/PDF':>10}{'KB/PDF':>9}{'vs WeasyPrint':>15}")
    for label, count, (ms, size) in (
        ("stamped layout (ours)", args.debts, ours),
        ("WeasyPrint, one document per debt", args.weasyprint_debts, weasy),
        ("reportlab canvas, one document per debt", args.reportlab_debts, report),
    ):
        print(f"{label:<42}{count:>7}{ms:>10.3f}{size / 1024:>9.1f}{weasy[0] / ms:>14.0f}x")


if __name__ == "__main__":
    main()
