"""Clientele: customer-value marketing — one customer database, grading by value, plans,
campaigns across every channel, and measurement against holdout groups."""

__version__ = "0.1.0"
