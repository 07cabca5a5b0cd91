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


def html(account: BeneficiaryAccount, demo: bool) -> str:
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
    )


def render_layout(account: BeneficiaryAccount, demo: bool) -> Layout:
    import weasyprint  # ~1 s of imports (Pango, fontTools): paid by the step that renders, not by every process

    document = weasyprint.HTML(string=html(account, demo), base_url=str(TEMPLATES)).render()
    page = document.pages[0]
    height = page.height * CSS_PX_TO_PT
    missing = [name for name in (*TEXT_FIELDS, "barcode") if name not in page.anchors]
    if missing:
        raise ValueError(f"the boleto template lacks the fields {', '.join(missing)}")
    fields = {
        name: Box(x1 * CSS_PX_TO_PT, height - y2 * CSS_PX_TO_PT, x2 * CSS_PX_TO_PT, height - y1 * CSS_PX_TO_PT)
        for name, (x1, y1, x2, y2) in page.anchors.items()
    }
    return Layout(document.write_pdf(), height, fields)
