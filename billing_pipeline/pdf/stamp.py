"""A standalone PDF per debt in well under a millisecond: the layout's drawing plus one stream of the debt's.

WeasyPrint lays the static page out once (`layout.py`, which rewrites its text in the standard fonts). Each
debt's PDF is then writer.OnePagePdf's constant objects and one deflated content stream with the debt's text and
bars: the per-debt work is a few string joins and one zlib call. The text uses the standard Helvetica fonts
(never embedded), so the linha digitável is real, selectable text.

With PIX, the layout has a square box for the QR code (pdf/qr.py builds its modules); they are drawn as a 1-bit
image mask, one sample per module: ~800 rectangles (one per run of dark modules) were 5 KB per PDF, and their
digits took most of a PDF's time to format and deflate.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from billing_pipeline.pdf.helvetica import ASCENT
from billing_pipeline.pdf.layout import BIG_FIELDS, PIX_FIELD, Box, Layout
from billing_pipeline.pdf.qr import FixedQrEncoder, fixed_encoder, version_for_length

MM = 72 / 25.4
NARROW_BAR = 0.254 * MM  # FEBRABAN: narrow bar 0.254 mm, wide = 3 narrow
BAR_HEIGHT = 13 * MM
TEXT_SIZE, BIG_TEXT_SIZE, SMALL_TEXT_SIZE = 8.0, 10.0, 7.0
SMALL_FIELDS = frozenset({"numero_documento", "numero_documento_recibo"})  # a 36-character debt id
INSTRUCTION_SIZE, INSTRUCTION_LEADING = 7.0, 9.0  # the layout's 7 pt lines, 0.4 mm apart
QUIET_ZONE = 4  # light modules around a QR code (ISO/IEC 18004 6.3.8), inside the pix_qr box
DEBT_DEFLATE_LEVEL = 6
_BAR_RUN = re.compile("1+")
_PDF_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)", "\r": " ", "\n": " "})


@dataclass(frozen=True)
class BoletoFields:
    """What is printed for one debt (already formatted)."""

    linha: str  # formatted linha digitável
    barcode: str  # 44 digits
    nosso_numero: str
    numero_documento: str
    vencimento: str  # dd/mm/yyyy
    valor: str  # 1.234,56
    pagador: str  # name and masked CPF/CNPJ
    data_documento: str
    data_processamento: str
    instructions: tuple[str, ...] = ()  # this debt's own lines (fine, interest, discount), below the layout's
    pix_payload: str | None = None  # the BR Code, drawn as a QR code when the layout has the PIX box


def itf_bars(barcode: str) -> list[tuple[int, int]]:
    """(first module, width in modules) of each bar of the Interleaved 2 of 5 symbol, narrow = 1, wide = 3."""
    # python-barcode pulls PIL and xml.dom (~0.2 s of every import of the definitions): only when tables are built.
    from barcode.itf import ITF

    pattern = ITF(barcode, narrow=1, wide=3).build()[0]
    return [(m.start(), m.end() - m.start()) for m in _BAR_RUN.finditer(pattern)]


def _pdf_text(text: str) -> bytes:
    return text.translate(_PDF_STRING_ESCAPES).encode("cp1252", "replace")


class BoletoStamper:
    def __init__(self, layout: Layout):
        self.layout = layout

    def _content(self, fields: BoletoFields, qr: FixedQrEncoder | None = None) -> bytes:
        boxes = self.layout.fields
        ops = [b"0 g\nBT\n"]
        values = {
            "linha_recibo": fields.linha, "linha": fields.linha,
            "nosso_numero_recibo": fields.nosso_numero, "nosso_numero": fields.nosso_numero,
            "numero_documento_recibo": fields.numero_documento, "numero_documento": fields.numero_documento,
            "vencimento_recibo": fields.vencimento, "vencimento": fields.vencimento,
            "valor_recibo": fields.valor, "valor": fields.valor,
            "pagador_recibo": fields.pagador, "pagador": fields.pagador,
            "data_documento": fields.data_documento, "data_processamento": fields.data_processamento,
        }
        for name, text in values.items():
            box = boxes[name]
            font, size = (b"/SBB", BIG_TEXT_SIZE) if name in BIG_FIELDS else (b"/SBR", TEXT_SIZE)
            if name in SMALL_FIELDS:
                size = SMALL_TEXT_SIZE
            ops.append(b"%s %.1f Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj\n" % (
                font, size, box.left, box.bottom + 1.0, _pdf_text(text)))
        ops.extend(_instructions(boxes["instrucoes"], boxes["instrucoes_box"], fields.instructions))
        ops.append(b"ET\n")
        ops.append(_bars(boxes["barcode"], fields.barcode))
        if fields.pix_payload is not None:
            if PIX_FIELD not in boxes:
                raise ValueError("this boleto layout has no PIX box: render it with_pix to stamp a BR Code")
            payload = fields.pix_payload.encode("ascii")
            encoder = qr or fixed_encoder(version_for_length(len(payload)))
            ops.append(_qr(boxes[PIX_FIELD], encoder.matrix(payload)))
        return b"".join(ops)

    def render(self, fields: BoletoFields, qr: FixedQrEncoder | None = None) -> bytes:
        """One debt's PDF. `qr` draws its BR Code (one version for every boleto of a receiver: see
        documents.qr_encoder_for); without it, the smallest version that holds the payload."""
        return self.layout.page.pdf(zlib.compress(self._content(fields, qr), DEBT_DEFLATE_LEVEL))


def _bars(box: Box, barcode: str) -> bytes:
    """The bars in module units (one narrow bar wide, the bar height tall) under one transformation, so the
    stream is a list of small integers that compresses to a few hundred bytes."""
    bottom = box.bottom + (box.top - box.bottom - BAR_HEIGHT) / 2
    return b"q %.4f 0 0 %.4f %.3f %.3f cm %s f Q\n" % (NARROW_BAR, BAR_HEIGHT, box.left, bottom, bar_rectangles(barcode))


def bar_rectangles(barcode: str) -> bytes:
    """`itf_bars` as `x 0 w 1 re` operators, from the rectangles of each digit pair at each position: building
    the symbol and scanning its modules for every debt cost a third of a PDF's time.

    >>> bar_rectangles("12")
    b'0 0 1 1 re 2 0 1 1 re 4 0 3 1 re 8 0 1 1 re 12 0 1 1 re 14 0 1 1 re 16 0 3 1 re 22 0 3 1 re 26 0 1 1 re'
    """
    pairs = len(barcode) // 2
    if len(barcode) % 2 or not barcode.isdigit():
        raise ValueError(f"an ITF barcode has an even number of digits: {barcode!r}")
    start, by_position, stop = _pair_rectangles(pairs)
    return b" ".join([start, *(table[barcode[2 * i:2 * i + 2]] for i, table in enumerate(by_position)), stop])


@lru_cache(maxsize=4)
def _pair_rectangles(pairs: int) -> tuple[bytes, list[dict[str, bytes]], bytes]:
    """The start pattern's rectangles, each digit pair's at each of `pairs` positions, the stop pattern's."""
    def rectangles(bars: list[tuple[int, int]], offset: int) -> bytes:
        return b" ".join(b"%d 0 %d 1 re" % (first + offset, width) for first, width in bars)

    start_modules, pair_modules = 4, 18  # narrow bar and space twice; 5 bars and 5 spaces, 2 of each wide
    by_pair = {}
    for value in range(100):
        pair = f"{value:02d}"
        by_pair[pair] = [(first - start_modules, width) for first, width in itf_bars(pair)
                         if start_modules <= first < start_modules + pair_modules]
    bars = itf_bars("00")
    start = rectangles([bar for bar in bars if bar[0] < start_modules], 0)
    stop_bars = [(first - start_modules - pair_modules, width) for first, width in bars
                 if first >= start_modules + pair_modules]
    by_position = [{pair: rectangles(bars, start_modules + pair_modules * position) for pair, bars in by_pair.items()}
                   for position in range(pairs)]
    return start, by_position, rectangles(stop_bars, start_modules + pair_modules * pairs)


def _instructions(anchor: Box, cell: Box, lines: tuple[str, ...]) -> list[bytes]:
    """The debt's instruction lines under the layout's, as many as the instructions box holds."""
    ops = []
    # The anchor is where the layout's next line box would start (its margin collapsed): the baseline is one
    # ascent below it, as in the layout's own lines, which are typeset with Helvetica's metrics.
    baseline = anchor.bottom - INSTRUCTION_SIZE * ASCENT / 1000
    for line in lines:
        if baseline < cell.bottom + 2.0:
            raise ValueError(f"the boleto's instructions box holds no more lines: {line!r}")
        ops.append(b"/SBR %.1f Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj\n" % (
            INSTRUCTION_SIZE, anchor.left, baseline, _pdf_text(line)))
        baseline -= INSTRUCTION_LEADING
    return ops


def _qr(box: Box, modules: np.ndarray) -> bytes:
    """The QR code as a 1-bit image mask (ISO 32000-1, 8.9.6.2), one sample per module, row 0 at the top, in the
    box's quiet zone: 57 x 57 modules are 456 bytes, as hex (inline images are binary otherwise, which some text
    extractors misparse) that deflate brings back to about that. A reader scales it without smoothing
    (/Interpolate is false by default), so the modules stay sharp squares."""
    size = modules.shape[0]
    module = min(box.right - box.left, box.top - box.bottom) / (size + 2 * QUIET_ZONE)
    return b"q %.4f 0 0 %.4f %.3f %.3f cm BI /IM true /W %d /H %d /D [ 1 0 ] /F /AHx ID %s> EI Q\n" % (
        size * module, size * module, box.left + QUIET_ZONE * module, box.top - (size + QUIET_ZONE) * module,
        size, size, np.packbits(modules, axis=1).tobytes().hex().encode())


def brazilian_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")
