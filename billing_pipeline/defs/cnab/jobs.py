"""The bank file jobs: write a remessa, import one retorno."""

import dagster as dg

from billing_pipeline.defs.cnab.assets import remessa, retorno
from billing_pipeline.defs.priorities import INGEST_PRIORITY

remessa_job = dg.define_asset_job(
    "write_remessa",
    selection=dg.AssetSelection.assets(remessa),
    description="Write the issuing account's next remessa: the boletos not yet sent, the baixas queued.",
    tags={"dagster/priority": INGEST_PRIORITY},
)

retorno_job = dg.define_asset_job(
    "import_retorno",
    selection=dg.AssetSelection.assets(retorno),
    description="Apply one retorno from the bank to the boletos' statuses.",
    tags={"dagster/priority": INGEST_PRIORITY},
)
