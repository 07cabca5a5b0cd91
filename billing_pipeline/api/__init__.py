"""The HTTP service beside the Dagster UI (`billing api`): files uploaded into the inbox and followed through the
store, boletos, health and Prometheus metrics. It writes to the inbox only and reads the store; the inbox sensor
stays the one trigger of the pipeline's runs.

    app.py       the FastAPI application and what every route shares (settings, store engine, errors)
    auth.py      bearer tokens (BILLING_API_TOKENS)
    uploads.py   POST /files (and /upload), POST /files/presign
    multipart.py a multipart/form-data body read as a stream, never held in memory
    files.py     GET /files, /files/{file_id}, its rejects and report
    debts.py     GET /debts/{debt_id}/boleto and boleto.pdf
    public.py    GET /boletos/{debt_id}.pdf?sig=..., the signed link a notice carries (no token)
    health.py    GET /health
    metrics.py   GET /metrics, computed at scrape time
    schemas.py   the JSON bodies, with the examples /docs shows
    server.py    uvicorn, bound to loopback unless tokens are configured
"""
