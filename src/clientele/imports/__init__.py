"""Importing customers, orders and products from CSV and XLSX files."""
