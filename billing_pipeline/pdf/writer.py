"""A one-page PDF written in one piece: the layout's drawing as a constant stream, then each debt's own stream.

Everything but the debt's stream is the same for every debt, and the debt's stream is the last object, so every
object's offset and the whole cross-reference table are constant too: a PDF is five joins around one deflated
stream. The fonts are the standard Helvetica and Helvetica-Bold (ISO 32000-1, 9.6.2.2), never embedded, in
WinAnsiEncoding: a string's bytes are its cp1252 codes, which text extraction maps back without a ToUnicode CMap.
"""

from __future__ import annotations

import zlib

HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
FONTS = {b"SBR": b"Helvetica", b"SBB": b"Helvetica-Bold"}  # resource names: the layout's and the debts' text
_VARIABLE = 7  # the debt's stream: the last object


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"


class OnePagePdf:
    def __init__(self, width: float, height: float, layout_content: bytes, level: int = 9):
        # q/Q around the layout: its drawing may leave a transformation or a colour set for the debt's stream.
        constant = zlib.compress(b"q\n" + layout_content + b"\nQ\n", level)
        fonts = b" ".join(b"/%s %d 0 R" % (name, 4 + n) for n, name in enumerate(FONTS))
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R /Lang (pt-BR) >>",
            b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 %s %s ] /Resources << /Font << %s >> >> "
            b"/Contents [ 6 0 R %d 0 R ] >>" % (_number(width), _number(height), fonts, _VARIABLE),
            *(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base
              for base in FONTS.values()),
            _stream(constant),
        ]
        body = bytearray(HEADER)
        offsets = []
        for number, text in enumerate(objects, start=1):
            offsets.append(len(body))
            body += b"%d 0 obj\n" % number + text + b"\nendobj\n"
        offsets.append(len(body))
        self._prefix = bytes(body) + b"%d 0 obj\n<< /Length " % _VARIABLE
        self._xref = b"xref\n0 %d\n0000000000 65535 f \n" % (_VARIABLE + 1) + b"".join(
            b"%010d 00000 n \n" % offset for offset in offsets) + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n" % (
            _VARIABLE + 1)

    def pdf(self, deflated: bytes) -> bytes:
        """The whole file around the debt's content stream, already deflated."""
        head = b"%d /Filter /FlateDecode >>\nstream\n" % len(deflated)
        xref_at = len(self._prefix) + len(head) + len(deflated) + 18  # 18: "\nendstream\nendobj\n"
        return b"".join((self._prefix, head, deflated, b"\nendstream\nendobj\n", self._xref,
                         b"%d\n%%%%EOF\n" % xref_at))


def _number(value: float) -> bytes:
    return (b"%.3f" % value).rstrip(b"0").rstrip(b".")
