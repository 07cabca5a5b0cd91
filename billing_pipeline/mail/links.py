"""The public link to a boleto's PDF that a notice carries instead of the PDF (BILLING_NOTICE_PDF=link).

A debtor has no API token, so the link itself is the credential: `<public url>/boletos/<debt id>.pdf?sig=<s>`,
where `s` is an HMAC-SHA256 of the debt id under BILLING_LINK_SECRET. Without the secret nobody can make the link
of another debt (debt ids come from the creditor's files and may well be guessable), and changing any character of
a link breaks its signature. Only the debt id is signed, not the boleto's numbers: a boleto issued again for the
same debt (a moved due date, a cancellation) is then reached by the link already e-mailed, which serves the
boleto the debt has now.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PUBLIC_PDF_ROUTE = "/boletos/{debt_id}.pdf"  # the API's route (api/public.py); the gate exempts it from tokens
# What is signed starts with this, so a signature made for a boleto link means nothing anywhere else the same
# secret might ever be used.
_PURPOSE = b"smart-billing boleto pdf link v1\x00"


def link_signature(secret: str, debt_id: str) -> str:
    """The `sig` of a debt's link: 256 bits, base64url without padding (43 characters, nothing to escape)."""
    digest = hmac.new(secret.encode(), _PURPOSE + debt_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature_matches(secret: str, debt_id: str, presented: str) -> bool:
    """Whether `presented` is the debt's signature, compared in constant time (the time taken does not tell how
    much of a guess was right)."""
    return hmac.compare_digest(link_signature(secret, debt_id).encode(), presented.encode())


def boleto_link(public_url: str, secret: str, debt_id: str) -> str:
    """The link a notice carries; `public_url` is where recipients reach the API (a path prefix is kept).

    >>> boleto_link("https://boletos.example.com/", "x" * 32, "8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d")[:76]
    'https://boletos.example.com/boletos/8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d.pdf'
    """
    path = PUBLIC_PDF_ROUTE.format(debt_id=debt_id)
    return f"{public_url.rstrip('/')}{path}?sig={link_signature(secret, debt_id)}"
