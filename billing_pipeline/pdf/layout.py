"""Render the static boleto layout once with WeasyPrint and read where each variable field sits on the page.

WeasyPrint would embed a subset of the font (5.8 KB of DejaVu Sans, a 1.2 KB ToUnicode CMap, its own metadata
and object streams): most of a 10 KB boleto. So the layout is typeset in a font made here that has Helvetica's
advance widths and no outlines (metrics_font), and its drawing is then rewritten to show the same characters in
the PDF standard Helvetica (standard_font_drawing): the text lands where WeasyPrint put it, a reader draws it
with its built-in Helvetica, and writer.OnePagePdf writes the page with none of WeasyPrint's other objects.
The cost in fidelity: the glyphs are each reader's own Helvetica (or its metric-compatible substitute), and the
layout's text is limited to Windows-1252 (every Portuguese letter, but not other scripts: replaced by "?").
"""

from __future__ import annotations

import base64
import io
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from billing_pipeline import government_id
from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.banks import BANKS
from billing_pipeline.pdf import helvetica
from billing_pipeline.pdf.writer import OnePagePdf

if TYPE_CHECKING:
    import pikepdf

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
METRICS_FONT = "BoletoHelveticaMetrics"
_ROUNDING = Decimal("0.001")  # the drawing's coordinates in CSS px: WeasyPrint writes 6 decimals
_DEFAULT_ALPHA = ({"/CA": 1}, {"/ca": 1})


@dataclass(frozen=True)
class Box:
    """A field's box in PDF points, origin at the page's bottom-left."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class Layout:
    pdf: bytes  # the static page alone, as writer.OnePagePdf writes it
    page_height: float  # points
    fields: dict[str, Box]
    page: OnePagePdf  # the page around each debt's stream


def html(account: BeneficiaryAccount, demo: bool, with_pix: bool = False, winansi: bool = False) -> str:
    """The layout's HTML; `winansi` replaces the characters the standard fonts lack (render_layout's)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     finalize=_winansi if winansi else None)
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

    page_html = html(account, demo, with_pix, winansi=True).replace("<style>", f"<style>{_metrics_font_faces()}", 1)
    document = weasyprint.HTML(string=page_html, base_url=str(TEMPLATES)).render()
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
    width, drawing = standard_font_drawing(document.write_pdf())
    one_page = OnePagePdf(width, height, drawing)
    return Layout(one_page.pdf(zlib.compress(b"")), height, fields, one_page)  # the page with no debt's values


def _winansi(value: object) -> object:
    """A template value without the characters Windows-1252 lacks; markup (the CSS) stays markup."""
    if isinstance(value, str):
        return type(value)(value.encode("cp1252", "replace").decode("cp1252"))
    return value


@lru_cache(maxsize=2)
def metrics_font(bold: bool) -> bytes:
    """A TrueType font with Helvetica's (or Helvetica-Bold's) advance widths, Arial's line box and no outlines, for
    Windows-1252: WeasyPrint typesets with it exactly as the standard font will be drawn (no kerning, no
    ligatures: a reader draws a string's glyphs by their widths alone)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    widths = {}
    for code, width in enumerate(helvetica.BOLD if bold else helvetica.REGULAR, start=helvetica.FIRST_CODE):
        if width:
            widths[f"c{code:03d}"] = (bytes([code]).decode("cp1252"), width)
    order = [".notdef", *widths]
    style = "Bold" if bold else "Regular"
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({ord(char): name for name, (char, _) in widths.items()})
    empty = TTGlyphPen(None).glyph()
    builder.setupGlyf(dict.fromkeys(order, empty))
    builder.setupHorizontalMetrics({".notdef": (500, 0), **{name: (width, 0) for name, (_, width) in widths.items()}})
    builder.setupHorizontalHeader(ascent=helvetica.ASCENT, descent=helvetica.DESCENT)
    builder.setupNameTable({"familyName": METRICS_FONT, "styleName": style, "psName": f"{METRICS_FONT}-{style}"})
    builder.setupOS2(sTypoAscender=helvetica.ASCENT, sTypoDescender=helvetica.DESCENT, sTypoLineGap=0,
                     usWinAscent=helvetica.ASCENT, usWinDescent=-helvetica.DESCENT,
                     usWeightClass=700 if bold else 400, fsSelection=0x20 if bold else 0x40)
    builder.updateHead(macStyle=1 if bold else 0)
    builder.setupPost()
    output = io.BytesIO()
    builder.save(output)
    return output.getvalue()


def _metrics_font_faces() -> str:
    """@font-face rules that make "Helvetica" the metrics fonts, for this document only."""
    return "".join(
        f'@font-face {{ font-family: "Helvetica"; font-weight: {weight}; '
        f'src: url(data:font/ttf;base64,{base64.b64encode(metrics_font(bold)).decode()}); }}\n'
        for bold, weight in ((False, "normal"), (True, "bold")))


def standard_font_drawing(pdf: bytes) -> tuple[float, bytes]:
    """(page width, the page's content stream) of WeasyPrint's one-page PDF, its text in the standard fonts
    (writer.FONTS) instead of the embedded metrics fonts, the no-op opacity states dropped, numbers shortened."""
    import pikepdf  # imported here, as weasyprint: importing the definitions never renders a layout

    with pikepdf.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        resources = page.obj.Resources
        fonts: dict[str, tuple[pikepdf.Name, dict[bytes, bytes]]] = {}
        for name, font in resources.get("/Font", pikepdf.Dictionary()).items():
            base = str(font.BaseFont)
            if base.split("+")[-1] not in ("Helvetica", "Helvetica-Bold"):  # what WeasyPrint names the metrics fonts
                raise ValueError(f"the boleto layout draws text in {base}, not in the standard Helvetica")
            fonts[name] = (pikepdf.Name("/SBB" if base.endswith("-Bold") else "/SBR"),
                           _glyph_codes(font.ToUnicode.read_bytes()))
        states = resources.get("/ExtGState", pikepdf.Dictionary())
        if any(dict(state.items()) not in _DEFAULT_ALPHA for state in states.values()):
            raise ValueError("the boleto layout uses transparency: the standard-font page does not carry it")
        codes: dict[bytes, bytes] = {}
        instructions = []
        for instruction in pikepdf.parse_content_stream(page):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                raise ValueError("the boleto layout has an inline image: the standard-font page carries none")
            operands: list[Any] = list(instruction.operands)
            operator = instruction.operator
            op = str(operator)
            if op == "gs":
                continue  # CA 1 / ca 1, the defaults (checked above)
            if op in ("Do", "sh", "cs", "CS", "BDC", "DP") or (
                    op in ("scn", "SCN") and any(isinstance(value, pikepdf.Name) for value in operands)):
                raise ValueError(f"the boleto layout uses {op}: the standard-font page carries no such resources")
            if op == "Tf":
                font_name, codes = fonts[str(operands[0])]
                operands = [font_name, operands[1]]
            elif op in ("TJ", "Tj"):
                operands, operator = _shown(operands[0], codes), pikepdf.Operator("TJ")
            else:
                operands = [_rounded(value) for value in operands]
            instructions.append(pikepdf.ContentStreamInstruction(operands, operator))
        width = float(page.mediabox[2]) - float(page.mediabox[0])
        return width, pikepdf.unparse_content_stream(instructions)


def _glyph_codes(cmap: bytes) -> dict[bytes, bytes]:
    """Glyph id (2 bytes) -> cp1252 code, from WeasyPrint's ToUnicode CMap (bfchar entries)."""
    codes = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for glyph, text in re.findall(rb"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", block):
            codes[bytes.fromhex(glyph.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be").encode("cp1252")
    if re.search(rb"beginbfrange", cmap):
        raise ValueError("the layout font's ToUnicode CMap has ranges: expected one entry per glyph")
    return codes


def _shown(shown: object, codes: dict[bytes, bytes]) -> list[pikepdf.Array]:
    """A TJ/Tj operand in glyph ids as one TJ array of cp1252 strings; adjustments of 0 dropped, strings joined."""
    import pikepdf

    items: list[object] = []
    for item in (shown if isinstance(shown, pikepdf.Array) else [shown]):
        if isinstance(item, pikepdf.String):
            glyphs = bytes(item)
            text = b"".join(codes[glyphs[i:i + 2]] for i in range(0, len(glyphs), 2))
            if items and isinstance(items[-1], bytes):
                items[-1] += text
            else:
                items.append(text)
        elif float(item) != 0:  # type: ignore[arg-type]
            items.append(_rounded(item))
    return [pikepdf.Array([pikepdf.String(item) if isinstance(item, bytes) else item for item in items])]


def _rounded(value: object) -> object:
    if isinstance(value, Decimal):
        rounded = value.quantize(_ROUNDING).normalize()
        return int(rounded) if rounded == rounded.to_integral_value() else rounded
    return value
