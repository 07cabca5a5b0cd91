"""The delivery job: one chunk's PDFs, then its notices."""

import dagster as dg

from billing_pipeline.defs.boletos.assets import boleto_pdfs
from billing_pipeline.defs.notifications.assets import notifications
from billing_pipeline.defs.priorities import DELIVERY_PRIORITY

deliver_chunk_job = dg.define_asset_job(
    "deliver_chunk",
    selection=dg.AssetSelection.assets(boleto_pdfs, notifications),
    description="Write one chunk's boleto PDFs and e-mail each debtor, once its boletos are stored.",
    tags={"dagster/priority": DELIVERY_PRIORITY},
)
