"""Bank file assets: the remessa that registers boletos with the bank (and asks for baixas), and each retorno the
bank sends back, applied to the boletos' statuses."""

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.boletos.assets import boletos
from billing_pipeline.defs.partitions import check_per_partition, retorno_file_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.instance.pools import DB

RETORNO_CHECKS = [
    check_per_partition(
        "retorno_trailers_add_up",
        asset="retorno",
        partitions_def=retorno_file_partitions,
        description="The lote and file trailers count the lines the retorno holds (Santander's lote trailer "
        "counts only its detail lines: said, not failed).",
    ),
    check_per_partition(
        "every_title_is_ours",
        asset="retorno",
        partitions_def=retorno_file_partitions,
        description="Every title of the retorno names a boleto this account issued; the others are kept in the "
        "retorno's report, never dropped.",
    ),
]


@dg.asset(
    deps=[dg.AssetDep(boletos, partition_mapping=dg.AllPartitionMapping())],
    group_name="bank_files",
    kinds={"cnab"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    description="A CNAB 240 remessa for the issuing account: an entrada (01) for every boleto not yet sent to the "
    "bank and a pedido de baixa (02) for every `billing boleto cancel` queued, numbered with the account's next "
    "NSA, in `{BILLING_DATA_DIR}/remessas/{bank}-{agência}-{conta}-{NSA}.rem`. Nothing pending: no file, no NSA used.",
)
def remessa(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        outcome = stages.remessa_stage(billing.engine, billing.settings)
    if outcome.path is None:
        context.log.info("nothing to send: every boleto is in a remessa already and no baixa is queued")
        return dg.MaterializeResult(metadata={"written": False, "account": outcome.account_key})
    context.log.info(f"wrote remessa {outcome.path}: NSA {outcome.nsa}, {outcome.entradas:,} entradas, "
                     f"{outcome.baixas:,} baixas, {outcome.lines:,} lines")
    return dg.MaterializeResult(metadata={
        "written": True,
        "remessa": dg.MetadataValue.path(str(outcome.path)),
        "nsa": outcome.nsa,
        "account": outcome.account_key,
        "entradas": outcome.entradas,
        "baixas": outcome.baixas,
        "lines": outcome.lines,
        "without_full_address": outcome.missing_address,
    })


@dg.asset(
    partitions_def=retorno_file_partitions,
    deps=[remessa],
    group_name="bank_files",
    kinds={"cnab"},
    owners=["team:billing"],
    retry_policy=STORE_RETRY,
    pool=DB,
    check_specs=RETORNO_CHECKS,
    description="One retorno from the bank (CNAB 240, segments T and U), keyed by its sha256: each title's "
    "movement (02 entrada confirmada, 03 rejeitada with its reasons, 06/17 liquidação, 09 baixa, 25 protesto ...) "
    "appended to the boleto's event log and applied to its status, once however often the file comes in. Report: "
    "`{BILLING_DATA_DIR}/retornos/{sha256}.report.json`.",
)
def retorno(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        outcome = stages.retorno_stage(billing.engine, billing.settings, context.partition_key)
    for warning in outcome.warnings:
        context.log.warning(warning)
    about = {"file_id": context.partition_key, "original_name": outcome.original_name}
    metadata: dict[str, object] = {
        **about,
        "status": str(outcome.status),
        "report": dg.MetadataValue.path(str(outcome.report_path)),
        "titles": outcome.titles,
        "applied": outcome.applied,
        "already_applied": outcome.already_applied,
        "unmatched": outcome.unmatched,
        "by_movement": dg.MetadataValue.json(outcome.by_movement),
        "by_status": dg.MetadataValue.json(outcome.by_status),
    }
    if outcome.error:
        metadata["error"] = outcome.error
    trailer_warnings = [warning for warning in outcome.warnings if "trailer" in warning]
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name="retorno_trailers_add_up",
                passed=not trailer_warnings,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={**about, "warnings": "; ".join(trailer_warnings) or "none"},
            ),
            dg.AssetCheckResult(
                check_name="every_title_is_ours",
                passed=outcome.unmatched == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={**about, "unmatched": outcome.unmatched},
            ),
        ],
    )
