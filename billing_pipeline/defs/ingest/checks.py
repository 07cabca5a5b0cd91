"""Data-quality checks on each loaded chunk, with their numbers as metadata in the UI."""


import dagster as dg

from billing_pipeline.stages import ChunkNumbers

DEBTS_CHECKS = [
    dg.AssetCheckSpec(
        "reject_rate_below_threshold",
        asset="debts",
        description="rejected rows / rows stays at or under BILLING_MAX_REJECT_RATE.",
    ),
    dg.AssetCheckSpec(
        "row_accounting_holds",
        asset="debts",
        description="accepted + rejected + duplicates = the chunk's data rows: no row is lost or counted twice.",
    ),
    dg.AssetCheckSpec(
        "debt_ids_stored_once",
        asset="debts",
        description="the store holds exactly the accepted debts of this chunk, each debtId once.",
    ),
]


def debts_check_results(chunk: ChunkNumbers, max_reject_rate: float) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name="reject_rate_below_threshold",
            passed=chunk.reject_rate <= max_reject_rate,
            metadata={"reject_rate": round(chunk.reject_rate, 6), "threshold": max_reject_rate,
                      "rejected": chunk.rejected, "rows": chunk.rows},
        ),
        dg.AssetCheckResult(
            check_name="row_accounting_holds",
            passed=chunk.accepted + chunk.rejected + chunk.duplicates == chunk.rows,
            metadata={"rows": chunk.rows, "accepted": chunk.accepted, "rejected": chunk.rejected,
                      "duplicates": chunk.duplicates},
        ),
        dg.AssetCheckResult(
            check_name="debt_ids_stored_once",
            passed=chunk.stored_rows == chunk.stored_debt_ids == chunk.accepted,
            metadata={"stored_rows": chunk.stored_rows, "distinct_debt_ids": chunk.stored_debt_ids,
                      "accepted": chunk.accepted},
        ),
    ]
