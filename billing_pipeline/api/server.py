"""`billing api`: the application under uvicorn. An API without tokens is open to whoever reaches it, so it
listens on loopback only, whatever host it was given, and says so."""

from __future__ import annotations

import ipaddress
import logging
import sys

import uvicorn

from billing_pipeline.settings import Settings

from .app import create_app

LOOPBACK_HOST = "127.0.0.1"
log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach an address.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bound_host(settings: Settings, host: str) -> tuple[str, str | None]:
    """The host to listen on, and the warning to print when it is not the one asked for."""
    if settings.api_token_list or is_loopback(host):
        return host, None
    return LOOPBACK_HOST, (f"BILLING_API_TOKENS is empty, so the API is open to whoever reaches it: listening on "
                           f"{LOOPBACK_HOST} only, not {host}. Set BILLING_API_TOKENS to serve other hosts.")


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    from billing_pipeline.structured_logs import configure_logging, uvicorn_log_config

    configure_logging(settings.log_format)
    host, warning = bound_host(settings, host or settings.api_host)
    port = settings.api_port if port is None else port
    if not warning and not settings.api_token_list:
        warning = "BILLING_API_TOKENS is empty: the API takes requests without a token (loopback only)"
    shown = f"[{host}]" if ":" in host else host
    banner = f"Smart Billing API: http://{shown}:{port}  (OpenAPI at /docs; files go to {settings.inbox_dir})"
    if settings.log_format == "json":  # every line a JSON object, these too
        if warning:
            log.warning(warning)
        log.info(banner)
    else:
        if warning:
            print(f"warning: {warning}", file=sys.stderr, flush=True)
        print(banner, flush=True)
    config = uvicorn.Config(create_app(settings), host=host, port=port, http="httptools", loop="uvloop",
                            log_config=uvicorn_log_config(settings.log_format), server_header=False,
                            timeout_graceful_shutdown=10)
    uvicorn.Server(config).run()
