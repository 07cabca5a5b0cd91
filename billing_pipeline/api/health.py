"""GET /health: 200 while the store and the inbox answer, else 503 naming what is down. Open to all: a load
balancer's or Docker's probe carries no token."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billing_pipeline.stages import health_problems

from . import schemas
from .auth import authorised

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/health", response_model=schemas.Health, summary="Whether the store and the inbox answer",
            responses={503: {"model": schemas.Health, "description": "The store or the inbox is down"}})
def health(request: Request) -> Any:
    problems = health_problems(request.app.state.engine, request.app.state.settings)
    down = {part: problem for part, problem in problems.items() if problem is not None}
    for part, problem in down.items():
        log.warning("health: the %s is down: %s", part, problem)
    # Hosts, users and paths in the sentences are for token holders; a probe needs only what is down.
    shown = down if authorised(request) else {part: f"the {part} is down (details with a token, or in the log)"
                                              for part in down}
    body = {"status": "unavailable" if down else "ok", **{part: "down" if part in down else "ok"
                                                          for part in problems}, "problems": shown}
    return JSONResponse(body, status_code=503 if down else 200)
