import dagster as dg

from billing_pipeline.defs.boletos.assets import boleto_pdfs, boletos, notifications
from billing_pipeline.defs.ingest.assets import debts, source_file, validated_chunk
from billing_pipeline.defs.reports.assets import file_report

ingest_file_job = dg.define_asset_job(
    "ingest_file",
    selection=dg.AssetSelection.assets(source_file),
    description="Archive a received file and cut it into chunk partitions.",
)

process_chunk_job = dg.define_asset_job(
    "process_chunk",
    selection=dg.AssetSelection.assets(validated_chunk, debts, boletos, boleto_pdfs, notifications),
    description="Validate one chunk, load its debts, number their boletos, write their PDFs, e-mail them.",
)

report_file_job = dg.define_asset_job(
    "report_file",
    selection=dg.AssetSelection.assets(file_report),
    description="Write one file's report once all its chunks are done.",
)
