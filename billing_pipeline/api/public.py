"""GET /boletos/{debt_id}.pdf?sig=...: the link a notice carries with BILLING_NOTICE_PDF=link, the one route a
debtor (who has no token) reaches. The signature is the credential: it is checked before the store is asked
anything, so an unsigned request cannot even learn whether a debt exists."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from billing_pipeline.stages import boleto_pdf
from billing_pipeline.stages.notify import PUBLIC_PDF_ROUTE, public_link_matches

from . import schemas
from .debts import DEBT_ID, _debt_id, _missing
from .errors import ApiError

router = APIRouter(tags=["boletos"])

SIGNATURE = Query(description="The link's signature, as the e-mail gives it", examples=["Zm9vYmFy..."])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorBody, "description": "Not a debtId"},
    403: {"model": schemas.ErrorBody, "description": "No signature, or not this debt's (`invalid_link`)"},
    404: {"model": schemas.ErrorBody, "description": "No boleto for this debt, or links are off "
          "(`links_disabled`: BILLING_LINK_SECRET is not set)"},
}
# The PDF holds the payer's name and document: no shared cache keeps it, and the page it opens from (a webmail)
# is not told the signed address.
_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


_SIGNATURE_IN_QUERY = re.compile(r"([?&])sig=[^&]*")


class _HideSignatures(logging.Filter):
    """uvicorn's access log names each request's path with its query, and a link's signature is the key to a payer's
    PDF: log files (and whatever collects them) get `sig=<hidden>` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "sig=" in args[2]:
            record.args = (*args[:2], _SIGNATURE_IN_QUERY.sub(r"\1sig=<hidden>", args[2]), *args[3:])
        return True


def hide_signatures_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, _HideSignatures) for existing in access.filters):
        access.addFilter(_HideSignatures())  # kept when uvicorn applies its logging config: dictConfig adds filters


@router.get(PUBLIC_PDF_ROUTE, name="public_boleto_pdf", summary="A boleto's PDF by the signed link of its notice",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}, **_ERRORS})
def public_boleto_pdf(request: Request, debt_id: Annotated[str, DEBT_ID],
                      sig: Annotated[str | None, SIGNATURE] = None) -> Response:
    """No bearer token: the `sig` of the link (an HMAC of the debt id under BILLING_LINK_SECRET) is what allows it.
    The PDF is the one `/debts/{debt_id}/boleto.pdf` gives."""
    settings = request.app.state.settings
    if not settings.link_secret:
        raise ApiError(404, "links_disabled", "boleto links are off on this server (BILLING_LINK_SECRET is not set)")
    wanted = _debt_id(debt_id)
    if not sig:
        raise ApiError(403, "invalid_link", "the link has no signature (sig): open it exactly as the e-mail gives it")
    if not public_link_matches(settings, wanted, sig):
        raise ApiError(403, "invalid_link", "the link's signature is not valid for this boleto: open it exactly as "
                       "the e-mail gives it")
    pdf = boleto_pdf(request.app.state.engine, settings, wanted, date.today())
    if pdf is None:
        raise _missing(wanted)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="boleto-{wanted}.pdf"', **_HEADERS})
