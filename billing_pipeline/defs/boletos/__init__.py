"""Boletos: each chunk's boleto numbers, then their PDFs."""
