"""Data-quality checks on each received file and each loaded chunk, per partition, with their numbers (and the
file and chunk they belong to) as metadata in the UI."""

from pathlib import Path

import dagster as dg

from billing_pipeline.defs.file_links import check_about, markdown_text
from billing_pipeline.defs.partitions import check_per_partition, chunk_partitions, source_file_partitions
from billing_pipeline.stages import ChunkNumbers, ChunkPlace, SplitOutcome

SOURCE_FILE_CHECKS = [
    check_per_partition(
        "file_accepted",
        asset="source_file",
        partitions_def=source_file_partitions,
        description="The file can be read as a whole (header, encoding): otherwise it is rejected with a stable "
        "code, shown here with its message and its rejects report.",
    ),
]

DEBTS_CHECKS = [
    check_per_partition(
        "reject_rate_below_threshold",
        asset="debts",
        partitions_def=chunk_partitions,
        description="rejected rows / rows stays at or under BILLING_MAX_REJECT_RATE.",
    ),
    check_per_partition(
        "row_accounting_holds",
        asset="debts",
        partitions_def=chunk_partitions,
        description="accepted + rejected + duplicates = the chunk's data rows: no row is lost or counted twice.",
    ),
    check_per_partition(
        "debt_ids_stored_once",
        asset="debts",
        partitions_def=chunk_partitions,
        description="the store holds exactly the accepted debts of this chunk, each debtId once.",
    ),
]


def file_accepted_result(outcome: SplitOutcome, rejects_report: Path) -> dg.AssetCheckResult:
    rejected = outcome.rejected
    about = {"file_id": outcome.file_id, "original_name": outcome.original_name}
    if rejected is None:
        return dg.AssetCheckResult(check_name="file_accepted", passed=True,
                                   metadata={**about, "chunks": len(outcome.chunk_keys)})
    return dg.AssetCheckResult(
        check_name="file_accepted",
        passed=False,
        description=markdown_text(f"rejected: {rejected.code}: {rejected.message}"),
        metadata={**about, "code": str(rejected.code), "message": rejected.message,
                  "line_number": rejected.line_number or 0,
                  "rejects_report": dg.MetadataValue.path(str(rejects_report))},
    )


def debts_check_results(chunk: ChunkNumbers, place: ChunkPlace, max_reject_rate: float) -> list[dg.AssetCheckResult]:
    """Each result names its chunk and file, so a failed one found in a list of checks leads back to both."""
    about = check_about(place)
    return [
        dg.AssetCheckResult(
            check_name="reject_rate_below_threshold",
            passed=chunk.reject_rate <= max_reject_rate,
            metadata={**about, "reject_rate": round(chunk.reject_rate, 6), "threshold": max_reject_rate,
                      "rejected": chunk.rejected, "rows": chunk.rows},
        ),
        dg.AssetCheckResult(
            check_name="row_accounting_holds",
            passed=chunk.accepted + chunk.rejected + chunk.duplicates == chunk.rows,
            metadata={**about, "rows": chunk.rows, "accepted": chunk.accepted, "rejected": chunk.rejected,
                      "duplicates": chunk.duplicates},
        ),
        dg.AssetCheckResult(
            check_name="debt_ids_stored_once",
            passed=chunk.stored_rows == chunk.stored_debt_ids == chunk.accepted,
            metadata={**about, "stored_rows": chunk.stored_rows, "distinct_debt_ids": chunk.stored_debt_ids,
                      "accepted": chunk.accepted},
        ),
    ]
