"""A small PNG of a PDF's first page, for previews in the UI and the docs."""

from __future__ import annotations

import io

import pypdfium2


def png_of_first_page(pdf: bytes, scale: float = 1.0, top_fraction: float = 1.0) -> bytes:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    if top_fraction < 1.0:
        image = image.crop((0, 0, image.width, int(image.height * top_fraction)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
