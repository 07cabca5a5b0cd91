"""PIX: the static BR Code a boleto carries (EMV QR Code MPM, as the BCB's manual defines it)."""
