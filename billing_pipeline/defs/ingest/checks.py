"""Data-quality checks on each loaded chunk, with their numbers as metadata in the UI."""


import dagster as dg
from sqlalchemy import RowMapping

from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.store.chunk_results import stored_debt_ids

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


def debts_check_results(billing: BillingResource, chunk: RowMapping) -> list[dg.AssetCheckResult]:
    rows, accepted, rejected, duplicates = chunk["rows"], chunk["accepted"], chunk["rejected"], chunk["duplicates"]
    rate = rejected / rows if rows else 0.0
    threshold = billing.settings.max_reject_rate
    stored, distinct = stored_debt_ids(billing.engine, chunk["chunk_key"])
    return [
        dg.AssetCheckResult(
            check_name="reject_rate_below_threshold",
            passed=rate <= threshold,
            metadata={"reject_rate": round(rate, 6), "threshold": threshold, "rejected": rejected, "rows": rows},
        ),
        dg.AssetCheckResult(
            check_name="row_accounting_holds",
            passed=accepted + rejected + duplicates == rows,
            metadata={"rows": rows, "accepted": accepted, "rejected": rejected, "duplicates": duplicates},
        ),
        dg.AssetCheckResult(
            check_name="debt_ids_stored_once",
            passed=stored == distinct == accepted,
            metadata={"stored_rows": stored, "distinct_debt_ids": distinct, "accepted": accepted},
        ),
    ]
