"""The notifications asset: each debtor of a chunk e-mailed once, with the boleto attached."""

import dagster as dg

from billing_pipeline import stages
from billing_pipeline.defs.boletos.assets import boleto_pdfs
from billing_pipeline.defs.partitions import chunk_partitions
from billing_pipeline.defs.resources import BillingResource
from billing_pipeline.defs.retries import STORE_RETRY, permanent_errors_fail_fast
from billing_pipeline.instance.pools import SMTP


@dg.asset(
    partitions_def=chunk_partitions,
    deps=[boleto_pdfs],
    group_name="notifications",
    kinds={"email"},
    owners=["team:billing"],
    pool=SMTP,
    retry_policy=STORE_RETRY,  # for the store; the mail server's trouble is retried by the step itself
    description="Each debtor of the chunk e-mailed once with the boleto attached (SMTP or the file outbox). "
    "Runs in the `smtp` pool, so backfills and UI runs share the same limit.",
)
def notifications(context: dg.AssetExecutionContext, billing: BillingResource) -> dg.MaterializeResult:
    with permanent_errors_fail_fast():
        outcome = stages.notify_stage(billing.engine, billing.settings, chunk_key=context.partition_key,
                                      progress=context.log.info)
        counts = stages.notice_counts(billing.engine, chunk_key=context.partition_key)
    if outcome.still_pending:
        settings = billing.settings
        waiting = (f"{outcome.still_pending} notices wait on the mail server (last answer: "
                   f"{outcome.last_error or 'none'})")
        metadata = {"sent_now": outcome.sent, "last_error": outcome.last_error or "", **counts}
        if context.retry_number < settings.smtp_step_retries:
            wait = stages.step_retry_wait(context.retry_number + 1, settings)
            context.log.warning(f"{waiting}; step retry {context.retry_number + 1} of "
                                f"{settings.smtp_step_retries} in {wait:.0f} s")
            raise dg.RetryRequested(max_retries=settings.smtp_step_retries, seconds_to_wait=wait)
        raise dg.Failure(
            description=f"{waiting}. This run's {settings.smtp_step_retries} step retries are spent; nothing is "
            f"lost: under the daemon, redelivery_sensor delivers this chunk again in "
            f"{settings.redelivery_first_wait_seconds:.0f} s, then at doubling intervals up to "
            f"{settings.redelivery_max_wait_seconds:.0f} s, until every notice is sent; without it, `billing notify` "
            "sends them (`billing outbox` counts them)",
            metadata=metadata,
            allow_retries=False,
        )
    return dg.MaterializeResult(
        metadata={**counts, "sent_now": outcome.sent, "messages_per_second": round(outcome.per_second, 1)}
    )
