"""List pages of the customer domain: search (q), filters, sortable columns (?sort=),
pagination, and exports that hold exactly the filtered list (all pages of it)."""

import re

import pytest
from django.urls import reverse

from clientele.core.tests.declarative import csv_rows, xlsx_rows
from clientele.customers.models import Customer, Feedback, Interaction

LIST = "/customers/customers/"


@pytest.fixture
def crowd(world):
    """Sixty customers in a known pattern, besides the world's three."""
    customers = []
    for i in range(60):
        customers.append(
            Customer(
                code=f"K{i:03d}",
                name=f"{'Zeta' if i % 2 else 'Eta'} Store {i:03d}",
                kind="organization" if i % 3 == 0 else "person",
                status=("active", "inactive", "lost")[i % 3],
                city="Suzhou" if i < 10 else "Wuxi",
                phone=f"1390000{i:04d}",
                source="web" if i % 5 == 0 else "store",
                owner=None,
                team=None,
            )
        )
    Customer.objects.bulk_create(customers)
    tagged = Customer.objects.filter(code__in=["K001", "K002"])
    for customer in tagged:
        customer.tags.add(world.tag)
    return Customer.objects.filter(code__startswith="K")


def _codes(response) -> list[str]:
    """Customer codes in the order the page lists them."""
    return [row.record.code for row in response.context["table"].paginated_rows]


def _count(response) -> int:
    return response.context["table"].paginator.count


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "K00"}, {f"K00{i}" for i in range(10)}),  # code prefix
        ({"q": "k059"}, {"K059"}),  # case-insensitive code
        ({"q": "Zeta Store 04"}, {f"K04{i}" for i in range(1, 10, 2)}),  # name prefix
        ({"q": "Store 04"}, set()),  # not a substring: a prefix search stays indexed
        ({"q": "13900000012"}, {"K012"}),  # phone prefix
        ({"q": "  K059  "}, {"K059"}),  # stray spaces
        ({"status": "lost", "city": "Suzhou"}, {"K002", "K005", "K008"}),
        ({"kind": "organization", "q": "K01"}, {"K012", "K015", "K018"}),
        ({"source": "web", "city": "Suzhou"}, {"K000", "K005"}),
        ({"tag": "TAG"}, {"K001", "K002", "A-001"}),
    ],
)
def test_search_and_filters(crowd, world, client_for, query, expected):
    if query.get("tag") == "TAG":
        query = {"tag": world.tag.pk}
    response = client_for("marketing_manager").get(LIST, query | {"sort": "code"})
    assert response.status_code == 200
    codes = set(_codes(response))
    assert codes == expected
    assert _count(response) == len(expected)


def test_filter_by_owner_and_team(crowd, world, client_for):
    client = client_for("marketing_manager")
    response = client.get(LIST, {"owner": world.account_manager_b.pk})
    assert set(_codes(response)) == {"B-001"}
    response = client.get(LIST, {"team": world.team_a.pk})
    assert set(_codes(response)) == {"A-001", "A-002"}


def test_an_invalid_filter_shows_nothing_and_says_why(crowd, client_for):
    response = client_for("marketing_manager").get(LIST, {"status": "sleeping"})
    assert response.status_code == 200
    assert _count(response) == 0
    assert "status" in response.context["filter_form"].errors


def test_sorting_by_a_column_both_ways(crowd, client_for):
    client = client_for("marketing_manager")
    ascending = _codes(client.get(LIST, {"sort": "name", "q": "K"}))
    descending = _codes(client.get(LIST, {"sort": "-name", "q": "K", "page": 2}))
    assert ascending[:3] == ["K000", "K002", "K004"]  # "Eta Store 000" first
    # The second page of the descending order ends where the ascending one starts.
    assert descending[-3:] == ["K004", "K002", "K000"]
    html = client.get(LIST, {"sort": "name"}).content.decode()
    assert "?sort=-name" in html  # the header link reverses the order


def test_a_bad_sort_key_is_ignored(crowd, client_for):
    response = client_for("marketing_manager").get(LIST, {"sort": "password"})
    assert response.status_code == 200
    assert _count(response) == 63


def test_pagination(crowd, client_for):
    client = client_for("marketing_manager")
    first = client.get(LIST, {"sort": "code"})
    second = client.get(LIST, {"sort": "code", "page": 2})
    assert _count(first) == 63
    assert len(_codes(first)) == 50 and len(_codes(second)) == 13
    assert not set(_codes(first)) & set(_codes(second))
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert "63 records" in html
    next_link = re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)
    assert "sort=code" in next_link.replace("&amp;", "&")
    # A page past the end, or not a number, shows a page instead of an error.
    assert len(_codes(client.get(LIST, {"page": 99}))) == 13
    assert client.get(LIST, {"page": "abc"}).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_the_whole_filtered_list(crowd, client_for, fmt):
    client = client_for("analyst")
    response = client.get(LIST, {"city": "Wuxi", "export": fmt})
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Code", "Name", "Kind"]
    assert len(body) == 50  # all Wuxi customers: more than one page
    assert {row[0] for row in body} == {f"K{i:03d}" for i in range(10, 60)}
    assert {row[header.index("City")] for row in body} == {"Wuxi"}
    # Display values, not database codes.
    assert {row[header.index("Kind")] for row in body} == {"Organization", "Person"}


def test_export_links_keep_the_filters(crowd, client_for):
    html = client_for("analyst").get(LIST, {"city": "Wuxi", "q": "K"}).content.decode()
    link = re.search(r'href="(\?[^"]*export=csv)"', html).group(1).replace("&amp;", "&")
    assert "city=Wuxi" in link and "q=K" in link


def test_export_of_an_account_managers_list_holds_only_their_customers(crowd, client_for):
    response = client_for("account_manager").get(LIST, {"export": "csv"})
    codes = {row[0] for row in csv_rows(response)[1:]}
    assert codes == {"A-001", "A-002"}


def test_interaction_and_feedback_filters(world, client_for):
    Interaction.objects.create(customer=world.customer_a, channel="hotline", subject="Call 1")
    Feedback.objects.create(
        customer=world.customer_a, kind="complaint", source="call", text="Broken", status="closed"
    )
    client = client_for("marketing_manager")
    response = client.get(reverse("customers:interaction_list"), {"channel": "hotline"})
    assert [r.record.subject for r in response.context["table"].paginated_rows] == ["Call 1"]
    response = client.get(reverse("customers:interaction_list"), {"q": "B-001"})
    assert [r.record for r in response.context["table"].paginated_rows] == [world.interaction_b]
    response = client.get(
        reverse("customers:feedback_list"), {"status": "closed", "kind": "complaint"}
    )
    assert [r.record.text for r in response.context["table"].paginated_rows] == ["Broken"]
    response = client.get(reverse("customers:feedback_list"), {"status": "closed", "export": "csv"})
    assert [row[-1] for row in csv_rows(response)[1:]] == ["Broken"]


@pytest.mark.parametrize("model", ["contact", "consent", "interaction", "feedback"])
def test_related_lists_find_records_by_part_of_the_customer_name(world, client_for, model):
    """A search field that follows a relation ("customer__name") is a substring search,
    not an exact match."""
    response = client_for("marketing_manager").get(
        reverse(f"customers:{model}_list"), {"q": "alpha ste"}
    )
    records = [row.record for row in response.context["table"].paginated_rows]
    assert records == [getattr(world, f"{model}_a")]
