"""The main menu. Each app registers its section in AppConfig.ready(), so areas added
later (segments, campaigns, loyalty, service, reports) appear without touching core."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    permission: str | None  # None: any signed-in user


@dataclass
class MenuSection:
    key: str
    label: str
    items: list[MenuItem] = field(default_factory=list)
    order: int = 50


_sections: dict[str, MenuSection] = {}


def register_menu(key: str, label, items: list[MenuItem], order: int = 50) -> None:
    section = _sections.setdefault(key, MenuSection(key, label, [], order))
    section.items.extend(items)


def menu_for(user) -> list[dict]:
    """The sections and items this user may open, in menu order."""
    result = []
    for section in sorted(_sections.values(), key=lambda s: s.order):
        items = []
        for item in section.items:
            if item.permission and not user.has_perm(item.permission):
                continue
            try:
                items.append({"label": item.label, "url": reverse(item.url_name)})
            except NoReverseMatch:
                continue
        if items:
            result.append({"key": section.key, "label": section.label, "items": items})
    return result


def navigation(request):
    """Template context processor: the menu for the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": []}
    return {"menu": menu_for(user)}
