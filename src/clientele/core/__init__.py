"""Shared ground: users, teams and roles, audit, money and time, generic views and API."""
