"""The two dynamic partition sets: files (by sha256) and their chunks."""

import dagster as dg

# One partition per received file, keyed by its sha256.
source_file_partitions = dg.DynamicPartitionsDefinition(name="source_files")

# One partition per chunk of a file, keyed `<first 12 hex of sha256>-<chunk_no:04d>`.
chunk_partitions = dg.DynamicPartitionsDefinition(name="chunks")
