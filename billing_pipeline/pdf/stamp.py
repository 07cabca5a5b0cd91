"""A standalone PDF per debt in well under a millisecond: the WeasyPrint layout plus a PDF incremental update.

WeasyPrint draws the static layout once (`layout.py`). Each debt's PDF is those bytes, unchanged, followed by an
incremental update (ISO 32000-1, 7.5.6) that adds one content stream with the debt's text and bars, and
re-declares the page so that its /Contents are [q, layout, Q + debt]. Everything in the update except that one
stream and the final cross-reference stream is the same for every debt and prepared once, so the per-debt work
is a few string joins, one zlib call and a 6-entry xref. The text uses the standard Helvetica fonts (never
embedded), so the linha digitável is real, selectable text.

With PIX, the layout has a square box for the QR code (pdf/qr.py builds its modules); the modules are drawn as
filled rectangles, one per run of dark modules in a row, in module units under one transformation, as the bars.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pikepdf
from barcode.itf import ITF

from billing_pipeline.pdf.layout import BIG_FIELDS, PIX_FIELD, Box, Layout
from billing_pipeline.pdf.qr import FixedQrEncoder, fixed_encoder, version_for_length

MM = 72 / 25.4
NARROW_BAR = 0.254 * MM  # FEBRABAN: narrow bar 0.254 mm, wide = 3 narrow
BAR_HEIGHT = 13 * MM
TEXT_SIZE, BIG_TEXT_SIZE, SMALL_TEXT_SIZE = 8.0, 10.0, 7.0
SMALL_FIELDS = frozenset({"numero_documento", "numero_documento_recibo"})  # a 36-character debt id
INSTRUCTION_SIZE, INSTRUCTION_LEADING = 7.5, 9.0  # Helvetica this size matches the layout's DejaVu 7 pt lines
QUIET_ZONE = 4  # light modules around a QR code (ISO/IEC 18004 6.3.8), inside the pix_qr box
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
    pattern = ITF(barcode, narrow=1, wide=3).build()[0]
    return [(m.start(), m.end() - m.start()) for m in _BAR_RUN.finditer(pattern)]


def _pdf_text(text: str) -> bytes:
    return text.translate(_PDF_STRING_ESCAPES).encode("cp1252", "replace")


class BoletoStamper:
    def __init__(self, layout: Layout):
        self.layout = layout
        base = layout.pdf if layout.pdf.endswith(b"\n") else layout.pdf + b"\n"
        pdf = pikepdf.open(io.BytesIO(base))
        page = pdf.pages[0].obj
        size = int(pdf.trailer.Size)
        self._base, self._size = base, size
        self._prev_xref = int(re.findall(rb"startxref\s+(\d+)", base)[-1])

        # pikepdf's stub takes only a Mapping; at runtime Dictionary() also copies a PDF dictionary Object.
        fonts = pikepdf.Dictionary(page.Resources.Font)  # type: ignore[arg-type]
        fonts.SBR = pdf.make_indirect(_standard_font("/Helvetica"))
        fonts.SBB = pdf.make_indirect(_standard_font("/Helvetica-Bold"))
        regular, bold = fonts.SBR.objgen[0], fonts.SBB.objgen[0]
        # The update's other objects follow: the q stream, the debt's stream, the cross-reference stream.
        self._q, self._debt, self._xref = range(max(size, regular + 1, bold + 1), max(size, regular + 1, bold + 1) + 3)
        resources = pikepdf.Dictionary(page.Resources)  # type: ignore[arg-type]  # as for fonts above
        resources.Font = fonts
        original = [c.objgen[0] for c in (page.Contents if isinstance(page.Contents, pikepdf.Array)
                                          else [page.Contents])]
        contents = " ".join(f"{n} 0 R" for n in (self._q, *original, self._debt))
        entries = {
            key: value.unparse() for key, value in page.items() if key not in ("/Contents", "/Resources")
        }
        page_dict = b"<< " + b" ".join(k.encode() + b" " + v for k, v in sorted(entries.items()))
        page_dict += b" /Resources " + resources.unparse(resolved=True) + f" /Contents [ {contents} ] >>".encode()

        self._page = page.objgen[0]
        objects = [
            (self._page, page_dict),
            (self._q, b"<< /Length 2 >>\nstream\nq\n\nendstream"),
            (regular, fonts.SBR.unparse(resolved=True)),
            (bold, fonts.SBB.unparse(resolved=True)),
        ]
        constant = bytearray()
        self._offsets: dict[int, int] = {}
        for number, body in objects:
            self._offsets[number] = len(base) + len(constant)
            constant += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        self._constant = bytes(constant)
        self._debt_offset = len(base) + len(constant)
        refs = [b"/Root %d 0 R" % pdf.trailer.Root.objgen[0]]
        if "/Info" in pdf.trailer:
            refs.append(b"/Info %d 0 R" % pdf.trailer.Info.objgen[0])
        self._trailer_refs = b" ".join(refs)
        self._index = sorted([self._page, self._q, self._debt, regular, bold, self._xref])
        pdf.close()

    def _content(self, fields: BoletoFields, qr: FixedQrEncoder | None = None) -> bytes:
        boxes = self.layout.fields
        ops = [b"Q\n0 g\nBT\n"]
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
            ops.append(_qr(boxes[PIX_FIELD], encoder.size, *encoder.dark_runs(payload)))
        return b"".join(ops)

    def render(self, fields: BoletoFields, qr: FixedQrEncoder | None = None) -> bytes:
        """One debt's PDF. `qr` draws its BR Code (one version for every boleto of a receiver: see
        documents.qr_encoder_for); without it, the smallest version that holds the payload."""
        # A QR code's rectangles are ~10 KB of digits: level 1 deflates them 5 times faster than 6, 10 % larger.
        stream = zlib.compress(self._content(fields, qr), 6 if fields.pix_payload is None else 1)
        debt = b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (self._debt, len(stream))
        debt += stream + b"\nendstream\nendobj\n"
        xref_offset = self._debt_offset + len(debt)
        offsets = {**self._offsets, self._debt: self._debt_offset, self._xref: xref_offset}
        rows = b"".join(struct.pack(">BIH", 1, offsets[n], 0) for n in self._index)
        index = " ".join(f"{n} 1" for n in self._index).encode()
        xref = b"%d 0 obj\n<< /Type /XRef /Size %d %s /Prev %d /W [ 1 4 2 ] /Index [ %s ] /Length %d >>\nstream\n" % (
            self._xref, self._xref + 1, self._trailer_refs, self._prev_xref, index, len(rows))
        xref += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset
        return b"".join((self._base, self._constant, debt, xref))


def _standard_font(name: str) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name(name),
                              Encoding=pikepdf.Name.WinAnsiEncoding)


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
    baseline = anchor.bottom - INSTRUCTION_LEADING + 1.0
    for line in lines:
        if baseline < cell.bottom + 2.0:
            raise ValueError(f"the boleto's instructions box holds no more lines: {line!r}")
        ops.append(b"/SBR %.1f Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj\n" % (
            INSTRUCTION_SIZE, anchor.left, baseline, _pdf_text(line)))
        baseline -= INSTRUCTION_LEADING
    return ops


@lru_cache(maxsize=8)
def _rectangle_words(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The words of `x y w 1 re` for a symbol of `size` modules, y upwards from its last row: formatting numbers
    is most of the cost of drawing a QR code, and a run's rectangle is then two table look-ups."""
    corners = np.array([[b"%d %d " % (x, size - 1 - row) for row in range(size)] for x in range(size)],
                       dtype=object)
    widths = np.array([b"%d 1 re " % width for width in range(size + 1)], dtype=object)
    return corners, widths


def _qr(box: Box, size: int, rows: np.ndarray, columns: np.ndarray, widths: np.ndarray) -> bytes:
    """The QR code's runs of dark modules in module units, the box's quiet zone around them, row 0 at the top."""
    module = min(box.right - box.left, box.top - box.bottom) / (size + 2 * QUIET_ZONE)
    corners, width_words = _rectangle_words(size)
    words = np.empty((len(rows), 2), dtype=object)
    words[:, 0], words[:, 1] = corners[columns, rows], width_words[widths]
    return b"q %.4f 0 0 %.4f %.3f %.3f cm %s f Q\n" % (
        module, module, box.left + QUIET_ZONE * module, box.top - (size + QUIET_ZONE) * module,
        b"".join(words.ravel().tolist()))


def brazilian_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")
