"""Render the static boleto layout once with WeasyPrint and read where each variable field sits on the page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from billing_pipeline import government_id
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS

TEMPLATES = Path(__file__).with_name("templates")
CSS_PX_TO_PT = 0.75
TEXT_FIELDS = (
    "linha_recibo", "nosso_numero_recibo", "numero_documento_recibo", "vencimento_recibo", "valor_recibo",
    "pagador_recibo", "linha", "vencimento", "data_documento", "numero_documento", "nosso_numero",
    "data_processamento", "valor", "pagador",
)
BIG_FIELDS = frozenset({"linha_recibo", "linha"})
DRAWN_FIELDS = ("barcode", "instrucoes", "instrucoes_box")  # the per-debt instructions start at "instrucoes"
PIX_FIELD = "pix_qr"  # the QR code's square, quiet zone included: only in the layout with PIX
PAYMENT_PLACE = "Pagável em qualquer banco até o vencimento. Após o vencimento, somente no banco emissor."
DEMO_INSTRUCTION = "DOCUMENTO DE DEMONSTRAÇÃO — NÃO PAGUE. Beneficiário e conta de exemplo."


@dataclass(frozen=True)
class Box:
    """A field's box in PDF points, origin at the page's bottom-left."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class Layout:
    pdf: bytes  # the static page, as WeasyPrint wrote it
    page_height: float  # points
    fields: dict[str, Box]


def html(account: BeneficiaryAccount, demo: bool, with_pix: bool = False) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    bank = BANKS[account.bank_code]
    instructions = [
        "Não receber após 60 dias do vencimento.",
        "Dúvidas sobre a cobrança: fale com o beneficiário.",
    ]
    if demo:
        instructions.insert(0, DEMO_INSTRUCTION)
    return environment.get_template("boleto.html.j2").render(
        css=(TEMPLATES / "boleto.css").read_text(encoding="utf-8"),
        bank={"name": bank.name, "label": bank.label},
        beneficiary={"name": account.beneficiary_name,
                     "document": government_id.mask(account.beneficiary_document)},
        account_label=bank.account_label(account),
        carteira=account.carteira or "RG",
        payment_place=PAYMENT_PLACE,
        instructions=instructions,
        pix=with_pix,
        pix_css=(TEMPLATES / "pix.css").read_text(encoding="utf-8") if with_pix else "",
    )


def render_layout(account: BeneficiaryAccount, demo: bool, with_pix: bool = False) -> Layout:
    import weasyprint  # ~1 s of imports (Pango, fontTools): paid by the step that renders, not by every process

    document = weasyprint.HTML(string=html(account, demo, with_pix), base_url=str(TEMPLATES)).render()
    page = document.pages[0]
    height = page.height * CSS_PX_TO_PT
    expected = (*TEXT_FIELDS, *DRAWN_FIELDS, *((PIX_FIELD,) if with_pix else ()))
    missing = [name for name in expected if name not in page.anchors]
    if missing:
        raise ValueError(f"the boleto template lacks the fields {', '.join(missing)}")
    fields = {
        name: Box(x1 * CSS_PX_TO_PT, height - y2 * CSS_PX_TO_PT, x2 * CSS_PX_TO_PT, height - y1 * CSS_PX_TO_PT)
        for name, (x1, y1, x2, y2) in page.anchors.items()
    }
    return Layout(document.write_pdf(), height, fields)
