"""Metadata that ties a file, its chunks, its rejects and its report together in the UI: a person starting from
a file's name reaches any of them in two clicks."""

from collections.abc import Sequence
from urllib.parse import quote

import dagster as dg
import pandas as pd

from billing_pipeline import stages
from billing_pipeline.settings import Settings

SHOWN_CHUNKS = 50
SHOWN_REJECTS = 10


def partition_link(asset: str, partition_key: str, text: str | None = None) -> str:
    """A markdown link to one partition of an asset in the UI (a path relative to the webserver)."""
    return f"[{text or partition_key}](/assets/{asset}?view=partitions&partition={quote(partition_key)})"


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


def rejects_preview(rejects: pd.DataFrame) -> dg.MetadataValue:
    """The chunk's first rejected rows, as a table a person can read without opening the CSV."""
    if rejects.empty:
        return dg.MetadataValue.md("no rejected row")
    shown = rejects.sort_values(["line_number", "column", "code"]).head(SHOWN_REJECTS)
    lines = ["| line | column | code | message |", "|---|---|---|---|"]
    lines += [f"| {row.line_number} | {_cell(row.column)} | {row.code} | {_cell(row.message)} |"
              for row in shown.itertuples()]
    more = rejects["line_number"].nunique() - shown["line_number"].nunique()
    if more > 0:
        lines.append(f"\n…and {more} more rejected lines in the file's rejects report")
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value: object) -> str:
    """A client's text inside a markdown table cell: no pipe, no HTML, one line, not too long."""
    text = " ".join(str(value).split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= 120 else text[:119] + "…"
