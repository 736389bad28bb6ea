"""Money: Decimal amounts rounded once, half-up to the cent, in one place."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(value) -> Decimal:
    """Round an amount half-up to the cent (the rule for every stored total)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value, currency: str = "") -> str:
    amount = round_money(value or 0)
    text = f"{amount:,.2f}"
    return f"{text} {currency}".strip()
