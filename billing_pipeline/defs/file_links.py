"""Metadata that ties a file, its chunks, its rejects and its report together in the UI: a person starting from
a file's name reaches any of them in two clicks."""

import re
from collections.abc import Sequence
from urllib.parse import quote

import dagster as dg
import pandas as pd

from billing_pipeline import stages
from billing_pipeline.settings import Settings

SHOWN_CHUNKS = 50
SHOWN_REJECTS = 10


# What turns text into a link, an image or HTML (emphasis is harmless): escaped, the rest stays readable.
_MARKDOWN_ACTIVE = re.compile(r"([\\\[\]<>!`])")


def markdown_text(text: str) -> str:
    """A client's string (a file name, a header it quoted) as literal text where the UI renders markdown: no link,
    image or HTML of theirs can appear in an operator's browser.

    >>> print(markdown_text("x](https://evil.example) ![y](z.png) <img src=x>"))
    x\\](https://evil.example) \\!\\[y\\](z.png) \\<img src=x\\>
    """
    return _MARKDOWN_ACTIVE.sub(r"\\\1", " ".join(text.split()))


def partition_link(asset: str, partition_key: str, text: str | None = None) -> str:
    """A markdown link to one partition of an asset in the UI (a path relative to the webserver)."""
    return f"[{markdown_text(text or partition_key)}](/assets/{asset}?view=partitions&partition={quote(partition_key)})"


def file_paths(settings: Settings, file_id: str) -> dict[str, dg.MetadataValue]:
    return {
        "rejects_report": dg.MetadataValue.path(str(settings.rejects_path(file_id))),
        "report": dg.MetadataValue.path(str(settings.report_path(file_id))),
    }


def chunk_list(chunk_keys: Sequence[str]) -> dg.MetadataValue:
    """The chunks, each a link to its validated_chunk partition (its rejects and checks are one click on)."""
    links = [partition_link("validated_chunk", key) for key in chunk_keys[:SHOWN_CHUNKS]]
    more = len(chunk_keys) - SHOWN_CHUNKS
    return dg.MetadataValue.md(", ".join(links) + (f" and {more} more" if more > 0 else "") if links else "none")


def chunk_file_metadata(place: stages.ChunkPlace, settings: Settings) -> dict[str, object]:
    """Which file a chunk belongs to and where in it: the chunk key alone says neither."""
    return {
        "file": dg.MetadataValue.md(partition_link("source_file", place.file_id, place.original_name)),
        "file_id": place.file_id,
        "original_name": place.original_name,
        "chunk": f"{place.chunk_no + 1} of {place.chunk_count}, lines {place.first_line}–{place.last_line}",
        # Written once every chunk of the file is stored; the rows below are this chunk's first ones.
        "rejects_report": dg.MetadataValue.path(str(settings.rejects_path(place.file_id))),
    }


def check_about(place: stages.ChunkPlace) -> dict[str, str]:
    """What a chunk's check result says of whose it is, so that one found in a list leads back to chunk and file."""
    return {"chunk": place.chunk_key, "file_id": place.file_id, "original_name": place.original_name}


def rejects_preview(rejects: pd.DataFrame) -> dg.MetadataValue:
    """The chunk's first rejected lines with their codes, as JSON (data: a client's values cannot turn into markup
    there), short enough for the UI to show inline; the messages are in the rejects report."""
    shown = rejects.sort_values(["line_number", "column", "code"]).head(SHOWN_REJECTS)
    listed: dict[str, str] = {}
    # The UI sorts the keys as text: zero-padded, line 998 still comes before line 1002.
    width = len(str(int(shown["line_number"].max()))) if len(shown) else 0
    for row in shown.itertuples():
        line = f"line {int(row.line_number):0{width}d}"
        reject = f"{row.code} ({_one_line(row.column)})" if row.column else str(row.code)
        listed[line] = f"{listed[line]}, {reject}" if line in listed else reject
    more = int(rejects["line_number"].nunique() - shown["line_number"].nunique())
    if more > 0:
        listed["more"] = f"{more} more lines: rejects_report"
    return dg.MetadataValue.json(listed)


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 160 else text[:159] + "…"
