"""The Dagster webserver's HTTP API, as the UI uses it."""

from __future__ import annotations

import json
import urllib.request


def server_info(url: str) -> dict | None:
    """GET /server_info (the webserver's versions), or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    """The `data` of a GraphQL query or mutation; asserts there are no errors."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]
