"""Notices to debtors: composition (Jinja2, pt-BR), senders (SMTP, file outbox) and the rate limit."""
