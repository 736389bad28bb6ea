"""Administrator-defined custom fields on customers, typed text / number / date / choice:
the customer form and the API both validate values and name the field in every error;
good values are stored under the field's key and shown on the 360 page."""

import pytest
from django.urls import reverse

from clientele.customers.models import Customer, CustomField


@pytest.fixture
def fields(world):
    """plant_count (number) comes from the world fixture."""
    return {
        "founded": CustomField.objects.create(key="founded", label="Founded on", type="date"),
        "tier": CustomField.objects.create(
            key="tier", label="Service tier", type="choice", choices=["Gold", "Silver"]
        ),
        "motto": CustomField.objects.create(key="motto", label="Motto", type="text"),
        "plant_count": world.custom_field,
    }


def _customer_form(**extra):
    return {"code": "CF-1", "kind": "organization", "name": "Typed Ltd", "status": "active"} | extra


def test_the_form_stores_typed_values(fields, client_for):
    response = client_for("marketing_manager").post(
        reverse("customers:customer_add"),
        _customer_form(
            cf_plant_count="12.5", cf_founded="2001-05-04", cf_tier="Gold", cf_motto="Solid"
        ),
    )
    assert response.status_code == 302
    customer = Customer.objects.get(code="CF-1")
    assert customer.custom_fields == {
        "plant_count": "12.5",
        "founded": "2001-05-04",
        "tier": "Gold",
        "motto": "Solid",
    }
    html = client_for("marketing_manager").get(customer.get_absolute_url()).content.decode()
    for label, value in (
        ("Plant count", "12.5"),
        ("Founded on", "2001-05-04"),
        ("Service tier", "Gold"),
        ("Motto", "Solid"),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in html


@pytest.mark.parametrize(
    ("name", "bad"),
    [("cf_plant_count", "many"), ("cf_founded", "2025-02-30"), ("cf_tier", "Purple")],
)
def test_the_form_rejects_bad_values_next_to_the_field(fields, client_for, name, bad):
    response = client_for("marketing_manager").post(
        reverse("customers:customer_add"), _customer_form(**{name: bad})
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [name]
    label = form.fields[name].label
    html = response.content.decode()
    # The error is rendered inside the field's own label block.
    block = html[html.index(f"<span>{label}</span>") :]
    block = block[: block.index("</label>")]
    assert 'class="error"' in block
    assert not Customer.objects.filter(code="CF-1").exists()


def test_a_required_custom_field_must_be_filled(fields, client_for):
    fields["tier"].required = True
    fields["tier"].save()
    response = client_for("marketing_manager").post(
        reverse("customers:customer_add"), _customer_form()
    )
    assert response.status_code == 400
    assert "cf_tier" in response.context["form"].errors


def test_editing_keeps_values_of_other_fields(fields, client_for):
    customer = Customer.objects.create(
        code="CF-2", name="Kept", custom_fields={"plant_count": "3", "motto": "Old"}
    )
    response = client_for("marketing_manager").post(
        reverse("customers:customer_edit", args=[customer.pk]),
        {
            "code": "CF-2",
            "kind": "person",
            "name": "Kept",
            "status": "prospect",
            "cf_plant_count": "3",
            "cf_motto": "",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.custom_fields == {"plant_count": "3"}


class TestApi:
    def test_good_values_are_stored(self, fields, api_client_for):
        response = api_client_for("marketing_manager").post(
            "/api/customers/",
            {
                "code": "CF-API",
                "name": "Api",
                "custom_fields": {"plant_count": 4, "founded": "1999-12-31", "tier": "Silver"},
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert Customer.objects.get(code="CF-API").custom_fields == {
            "plant_count": "4",
            "founded": "1999-12-31",
            "tier": "Silver",
        }

    def test_every_bad_value_is_named(self, fields, api_client_for):
        response = api_client_for("marketing_manager").post(
            "/api/customers/",
            {
                "code": "CF-API",
                "name": "Api",
                "custom_fields": {
                    "plant_count": "many",
                    "founded": "31/12/1999",
                    "tier": "Purple",
                    "colour": "red",
                },
            },
            format="json",
        )
        assert response.status_code == 400
        errors = response.json()["errors"]["custom_fields"]
        assert set(errors) == {"plant_count", "founded", "tier", "colour"}
        assert errors["plant_count"] == ["Plant count must be a number."]
        assert errors["founded"] == ["Founded on must be a date (YYYY-MM-DD)."]
        assert errors["tier"] == ["Service tier must be one of: Gold, Silver."]
        assert errors["colour"] == ["Unknown custom field."]
        assert not Customer.objects.filter(code="CF-API").exists()

    def test_not_a_number_is_not_a_number(self, fields, api_client_for):
        for bad in ("NaN", "Infinity", "1e"):
            response = api_client_for("marketing_manager").post(
                "/api/customers/",
                {"code": "CF-NAN", "name": "x", "custom_fields": {"plant_count": bad}},
                format="json",
            )
            assert response.status_code == 400, bad
            assert "plant_count" in response.json()["errors"]["custom_fields"]


class TestDefinitions:
    def test_a_choice_field_needs_choices(self, world, client_for):
        response = client_for("administrator").post(
            reverse("customers:customfield_add"),
            {"key": "grade", "label": "Grade", "type": "choice", "choices": ""},
        )
        assert response.status_code == 400
        assert "choices" in response.context["form"].errors

    def test_choices_are_one_per_line(self, world, client_for):
        response = client_for("administrator").post(
            reverse("customers:customfield_add"),
            {"key": "grade", "label": "Grade", "type": "choice", "choices": "A\n\n B \nC"},
        )
        assert response.status_code == 302
        assert CustomField.objects.get(key="grade").choices == ["A", "B", "C"]

    def test_only_choice_fields_have_choices(self, world, client_for):
        response = client_for("administrator").post(
            reverse("customers:customfield_add"),
            {"key": "size2", "label": "Size", "type": "number", "choices": "1\n2"},
        )
        assert response.status_code == 400
        assert "choices" in response.context["form"].errors
