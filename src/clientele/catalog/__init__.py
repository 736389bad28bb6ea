"""Products and categories, each product with its marketing role."""
