"""Notifications: each chunk's debtors e-mailed, delivered again while the mail server is down."""
