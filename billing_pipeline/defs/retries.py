"""Retry policies for steps, and the line between a transient fault (retried) and a permanent one (not).

Dagster retries a step on any exception; `permanent_errors_fail_fast` turns every error that is not transient
(billing_pipeline.faults) into Failure(allow_retries=False), so a schema error or a bug alerts at once while a lost
database connection or an SMTP 4xx is retried with exponential backoff and jitter.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from billing_pipeline.faults import is_transient

# The store and local files: a restarting PostgreSQL is back within seconds to a minute (1+2+4+8+16 s).
STORE_RETRY = dg.RetryPolicy(max_retries=5, delay=1.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# SMTP trouble does not go through a policy: the notifications step asks for its retries itself (RetryRequested),
# as many and as far apart as BILLING_SMTP_STEP_RETRIES and BILLING_SMTP_STEP_RETRY_SECONDS say, read when it runs.


@contextmanager
def permanent_errors_fail_fast() -> Iterator[None]:
    try:
        yield
    except dg.Failure:
        raise
    except Exception as error:
        if is_transient(error):
            raise
        raise dg.Failure(
            description=f"permanent error, not retried: {type(error).__name__}: {error}",
            metadata={"error_type": type(error).__name__},
            allow_retries=False,
        ) from error
