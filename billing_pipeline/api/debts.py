"""GET /debts/{debt_id}/boleto (the boleto's numbers, the payer's document masked) and its PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from billing_pipeline.stages import boleto_pdf, boleto_summary, debt_id_of

from . import schemas
from .errors import ApiError

router = APIRouter(tags=["boletos"])

DEBT_ID = Path(description="The debt's debtId (a UUID), as in the CSV file",
               examples=["8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody, "description": "No boleto for this debt (unknown, rejected, or not issued yet)"},
    400: {"model": schemas.ErrorBody, "description": "Not a debtId"},
    401: {"model": schemas.ErrorBody, "description": "No valid bearer token"},
}


def _debt_id(raw: str) -> str:
    try:
        return debt_id_of(raw)
    except ValueError as error:
        raise ApiError(400, "invalid_request", str(error)) from None


def _missing(debt_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no boleto for debt {debt_id}: the debt is unknown, was rejected, or its "
                    "boleto is not issued yet")


@router.get("/debts/{debt_id}/boleto", name="debt_boleto", response_model=schemas.Boleto,
            response_model_exclude_none=True, responses=_ERRORS, summary="One debt's boleto")
def debt_boleto(request: Request, debt_id: Annotated[str, DEBT_ID]) -> dict[str, Any]:
    wanted = _debt_id(debt_id)
    summary = boleto_summary(request.app.state.engine, wanted)
    if summary is None:
        raise _missing(wanted)
    return {**summary, "pdf_url": str(request.app.url_path_for("debt_boleto_pdf", debt_id=wanted))}


@router.get("/debts/{debt_id}/boleto.pdf", name="debt_boleto_pdf", summary="One debt's boleto as a PDF",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}, **_ERRORS})
def debt_boleto_pdf(request: Request, debt_id: Annotated[str, DEBT_ID]) -> Response:
    """Rendered as its chunk's archive holds it, with today's processing date."""
    wanted = _debt_id(debt_id)
    pdf = boleto_pdf(request.app.state.engine, request.app.state.settings, wanted, date.today())
    if pdf is None:
        raise _missing(wanted)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="boleto-{wanted}.pdf"'})
