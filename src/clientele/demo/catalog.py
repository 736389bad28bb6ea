"""The demo catalogue: about 200 products in five categories, with prices, costs and roles.

Built from the vocabulary in `data.CATALOG` by a seeded generator, so the same seed gives
the same products. Prices end in 9 as shop prices do; bulk food is priced per ton.
"""

from dataclasses import dataclass

import numpy as np

from .data import CATALOG

PRODUCT_COUNT = 200
# Brands that charge a premium over the category's usual price.
PREMIUM_BRANDS = {"兰蔻", "雅诗兰黛", "迪奥", "资生堂", "观夏", "戴森", "茅台", "五粮液", "毛戈平"}
# Gross margin range by role: traffic items are sold near cost, profit items rarely
# discounted and rich in margin.
MARGINS = {
    "traffic": (0.03, 0.12),
    "marginal": (0.15, 0.28),
    "potential": (0.30, 0.45),
    "profit": (0.45, 0.65),
}
# Brands that make only some of a subcategory's items (a wine maker makes no liquor).
ITEM_BRANDS = {
    "浓香型白酒 500ml": "五粮液 洋河 茅台 汾酒",
    "干红葡萄酒 750ml": "张裕 长城",
    "明前绿茶礼盒": "西湖龙井 八马 大益",
    "高速吹风机": "戴森 飞利浦 小米",
    "东北大米 5kg": "十月稻田 金龙鱼 福临门",
}


@dataclass(frozen=True)
class CategorySpec:
    """A product category; `parent` is the code of its top category, if any."""

    code: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class ProductSpec:
    """One product to create, with prices in cents and the index of its top category."""

    sku: str
    name: str
    category: str
    unit: str
    price_cents: int
    cost_cents: int
    role: str
    top: int
    bulk: bool


def _shop_price(yuan: float, bulk: bool) -> int:
    """A price as shops write it, in cents: 299 rather than 301.37; tons to the hundred."""
    if bulk:
        return int(round(yuan / 100) * 100) * 100
    if yuan < 20:
        return int(round(yuan)) * 100 - 10
    return (int(round(yuan / 10)) * 10 - 1) * 100


def build_catalog(seed: int) -> tuple[list[CategorySpec], list[ProductSpec]]:
    """Categories and PRODUCT_COUNT products: every item once, then random brand/item
    pairs of the same subcategory until the count is reached."""
    rng = np.random.default_rng([seed, 0xCA7])
    categories: list[CategorySpec] = []
    pairs = []  # (top index, subcategory code, brand, item)
    for top, ((top_code, top_name), subcategories) in enumerate(CATALOG):
        categories.append(CategorySpec(top_code, top_name, None))
        for code, name, brands, items in subcategories:
            categories.append(CategorySpec(code, name, top_code))
            for item in items:
                for brand in ITEM_BRANDS.get(item[0], brands).split():
                    pairs.append((top, code, brand, item))
    items_seen: dict[str, list[int]] = {}
    for index, (_, _, _, item) in enumerate(pairs):
        items_seen.setdefault(item[0], []).append(index)
    chosen = [int(rng.choice(indexes)) for indexes in items_seen.values()]
    rest = np.setdiff1d(np.arange(len(pairs)), chosen)
    extra = rng.choice(rest, size=min(len(rest), PRODUCT_COUNT - len(chosen)), replace=False)
    selected = sorted(chosen + [int(i) for i in extra])

    products = []
    numbers: dict[str, int] = {}
    for index in selected:
        top, code, brand, (item, base, unit, role, bulk) = pairs[index]
        premium = 1.6 if brand in PREMIUM_BRANDS else 1.0
        price = _shop_price(base * premium * float(rng.lognormal(0.0, 0.18)), bulk)
        low, high = MARGINS[role]
        cost = int(round(price * (1 - rng.uniform(low, high))))
        numbers[code] = numbers.get(code, 0) + 1
        products.append(
            ProductSpec(
                sku=f"{code}-{numbers[code]:03d}",
                name=f"{brand} {item}",
                category=code,
                unit=unit,
                price_cents=price,
                cost_cents=cost,
                role=role,
                top=top,
                bulk=bulk,
            )
        )
    return categories, products
