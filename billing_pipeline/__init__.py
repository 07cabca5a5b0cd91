"""Smart Billing: CSV files of debts in, validated debts, boletos and e-mails out, orchestrated by Dagster.

The layout is in docs/architecture.md ("Where things live").
"""
