import dagster as dg

from billing_pipeline.defs.boletos.assets import boleto_pdfs, boletos, notifications
from billing_pipeline.defs.ingest.assets import debts, source_file, validated_chunk
from billing_pipeline.defs.reports.assets import file_report

# The queued run coordinator starts higher priorities first. A file's split comes before any chunk, every chunk's
# debts and boletos before any delivery: delivery of one 100,000-row chunk (PDFs, then e-mails) takes minutes, and
# without this it would hold the run slots and both cores while the rest of the file waited to be stored.
SPLIT_PRIORITY = "10"
INGEST_PRIORITY = "0"
DELIVERY_PRIORITY = "-10"

ingest_file_job = dg.define_asset_job(
    "ingest_file",
    selection=dg.AssetSelection.assets(source_file),
    description="Archive a received file and cut it into chunk partitions.",
    tags={"dagster/priority": SPLIT_PRIORITY},
)

process_chunk_job = dg.define_asset_job(
    "process_chunk",
    selection=dg.AssetSelection.assets(validated_chunk, debts, boletos),
    description="Validate one chunk, load its debts and number their boletos.",
    tags={"dagster/priority": INGEST_PRIORITY},
)

deliver_chunk_job = dg.define_asset_job(
    "deliver_chunk",
    selection=dg.AssetSelection.assets(boleto_pdfs, notifications),
    description="Write one chunk's boleto PDFs and e-mail each debtor, once its boletos are stored.",
    tags={"dagster/priority": DELIVERY_PRIORITY},
)

report_file_job = dg.define_asset_job(
    "report_file",
    selection=dg.AssetSelection.assets(file_report),
    description="Write one file's report once all its chunks are done.",
)
