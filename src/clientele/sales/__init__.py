"""Orders and their lines: the purchase history every value model reads."""
