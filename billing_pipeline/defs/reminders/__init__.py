"""Reminders (the régua): a daily schedule creates and sends them; a sensor sends those the quiet hours held."""
