"""Run priorities (the `dagster/priority` tag): the queued run coordinator starts higher priorities first.

A file's split comes before any chunk, every chunk's debts and boletos before any delivery: delivery of one
100,000-row chunk (PDFs, then e-mails) takes minutes, and without this it would hold the run slots and both cores
while the rest of the file waited to be stored.
"""

SPLIT_PRIORITY = "10"
INGEST_PRIORITY = "0"
DELIVERY_PRIORITY = "-10"
