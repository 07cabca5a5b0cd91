"""The dynamic partition sets: files (by sha256), their chunks, and the bank's retorno files (by sha256)."""

import warnings

import dagster as dg

# One partition per received file, keyed by its sha256.
source_file_partitions = dg.DynamicPartitionsDefinition(name="source_files")

# One partition per chunk of a file, keyed `<first 12 hex of sha256>-<chunk_no:04d>`.
chunk_partitions = dg.DynamicPartitionsDefinition(name="chunks")

# One partition per retorno file received from the bank, keyed by its sha256.
retorno_file_partitions = dg.DynamicPartitionsDefinition(name="retorno_files")


def check_per_partition(name: str, asset: str, partitions_def: dg.PartitionsDefinition,
                        description: str) -> dg.AssetCheckSpec:
    """A check with a result per partition, so a failing chunk or file is found from the asset's Checks tab.
    Partitioned checks are a preview in Dagster 1.13 (docs/operations.md, "Checks"): chosen knowingly, so its
    warning is not repeated at every import."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning, message="Specifying a partitions_def")
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=partitions_def, description=description)
