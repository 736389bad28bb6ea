"""Channels: the outbox and its adapters (SMTP e-mail, SMS gateway, webhook, file), and the contact policy."""
