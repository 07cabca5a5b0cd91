"""The assets one file goes through, in order: what `billing process --until` can stop after.

Kept apart from the Dagster definitions so that the CLI names them without importing Dagster;
billing_pipeline_tests/test_definitions.py checks that they are the definitions' asset keys.
"""

STEPS = ("source_file", "validated_chunk", "debts", "boletos", "boleto_pdfs", "notifications")
