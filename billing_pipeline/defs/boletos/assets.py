"""Boleto assets: the FEBRABAN numbers of every loaded debt of a chunk, then their PDFs."""

import base64

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.file_links import check_about, chunk_file_metadata
from billing_pipeline.defs.ingest.assets import debts
from billing_pipeline.defs.partitions import check_per_partition, chunk_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.instance.pools import DB, PDF

BOLETO_CHECKS = [
    check_per_partition(
        "linha_matches_barcode",
        asset="boletos",
        partitions_def=chunk_partitions,
        description="Every stored barcode's general check digit verifies and its linha digitável converts back "
        "to exactly that barcode (all field check digits right): the values this run wrote, or, when some were "
        "written before, every boleto read back from the store.",
    ),
    check_per_partition(
        "every_debt_has_one_boleto",
        asset="boletos",
        partitions_def=chunk_partitions,
        description="The chunk's stored debts and boletos match one to one.",
    ),
]


@dg.asset(
    partitions_def=chunk_partitions,
    deps=[debts],
    group_name="boletos",
    kinds={"numpy", "sql"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    check_specs=BOLETO_CHECKS,
    description="One boleto per loaded debt: nosso número from the account's sequence, due date by policy "
    "(BILLING_MIN_DAYS_TO_DUE), 44-digit barcode and 47-digit linha digitável computed for the whole chunk.",
)
def boletos(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    key = context.partition_key
    with permanent_errors_fail_fast():
        outcome = stages.boleto_stage(billing.engine, billing.settings, key)
        verified = stages.verify_boletos(billing.engine, key, outcome)
        place = stages.chunk_place(billing.engine, key)
    about = check_about(place)
    return dg.MaterializeResult(
        metadata={
            **chunk_file_metadata(place, billing.settings),
            "created": outcome.created,
            "boletos": outcome.total,
            "bank": billing.settings.bank_code,
            "first_linha": verified.first_linha,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="linha_matches_barcode",
                passed=verified.numbers_verify,
                metadata={**about, "checked": verified.checked, "invalid": verified.invalid,
                          "first_invalid": ", ".join(verified.invalid_debt_ids)},
            ),
            dg.AssetCheckResult(
                check_name="every_debt_has_one_boleto",
                passed=verified.one_boleto_per_debt,
                metadata={**about, "debts": verified.debts, "boletos": verified.boletos},
            ),
        ],
    )


@dg.asset(
    partitions_def=chunk_partitions,
    deps=[boletos],
    group_name="boletos",
    kinds={"pdf"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=PDF,
    description="One PDF per boleto (Jinja2 + WeasyPrint layout rendered once, each debt stamped onto it), in "
    "`{BILLING_DATA_DIR}/boletos/{chunk}.zip`, as `{debt_id}.pdf`. The first boleto is previewed here.",
)
def boleto_pdfs(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        outcome = stages.pdf_stage(billing.engine, billing.settings, context.partition_key,
                                   progress=context.log.info)
    metadata = {
        "documents": outcome.documents,
        "created": outcome.created,
        "archive": dg.MetadataValue.path(str(outcome.archive)),
        "bytes_per_pdf": round(outcome.pdf_bytes / outcome.documents) if outcome.documents else 0,
        "ms_per_pdf": round(outcome.seconds * 1000 / outcome.documents, 3)
        if outcome.documents and outcome.created else 0,
    }
    if (png := outcome.preview_png()) is not None:
        metadata["preview"] = dg.MetadataValue.md(
            f"![first boleto of the chunk](data:image/png;base64,{base64.b64encode(png).decode()})"
        )
    return dg.MaterializeResult(metadata=metadata)
