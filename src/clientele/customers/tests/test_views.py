"""Every page of the customer domain, for every role: declarations on the generated tests
in core.tests.declarative (list, detail, add, edit, delete, CSV/XLSX export, search, sort;
no permission -> 403, out of an account manager's scope -> 404 and absent)."""

import itertools

from clientele.core.tests.declarative import (
    CUSTOMER_DATA,
    CUSTOMER_SETTINGS,
    SERVICE_RECORDS,
    ModelViewTests,
)
from clientele.customers.models import (
    Consent,
    Contact,
    Customer,
    CustomField,
    Feedback,
    Interaction,
    Tag,
)

_seq = itertools.count(1)


def _customer(world, side):
    return world.customer_a if side == "a" else world.customer_b


class TestCustomerViews(ModelViewTests):
    model = Customer
    grants = CUSTOMER_DATA
    scoped = True

    def make(self, world, side="a"):
        n = next(_seq)
        owner, team = (
            (world.account_manager, world.team_a)
            if side == "a"
            else (world.account_manager_b, world.team_b)
        )
        return Customer.objects.create(
            code=f"N{side.upper()}-{n}", name=f"New {side} {n}", owner=owner, team=team
        )

    def existing(self, world, side="a"):
        return _customer(world, side)

    def form_data(self, world):
        return {
            "code": "P-100",
            "kind": "person",
            "name": "Pan Person",
            "status": "prospect",
            "owner": world.account_manager.pk,
            "team": world.team_a.pk,
        }

    def edit_data(self, world, obj):
        return {
            "code": obj.code,
            "kind": obj.kind,
            "name": "Renamed Ltd",
            "status": obj.status,
            "owner": obj.owner_id or "",
            "team": obj.team_id or "",
        }

    def edited(self, obj):
        return obj.name == "Renamed Ltd"

    def export_text(self, obj):
        return obj.code

    def search_text(self, obj):
        return obj.code


class TestContactViews(ModelViewTests):
    model = Contact
    grants = CUSTOMER_DATA
    scoped = True

    def make(self, world, side="a"):
        return Contact.objects.create(customer=_customer(world, side), name=f"Person {next(_seq)}")

    def existing(self, world, side="a"):
        return world.contact_a if side == "a" else world.contact_b

    def form_data(self, world):
        return {
            "customer": "A-001",
            "name": "Wang Fang",
            "title": "Buyer",
            "decision_role": "influencer",
        }

    def edit_data(self, world, obj):
        return {"customer": obj.customer.code, "name": "Renamed Contact"}

    def edited(self, obj):
        return obj.name == "Renamed Contact"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


class TestConsentViews(ModelViewTests):
    model = Consent
    grants = SERVICE_RECORDS
    scoped = True

    def make(self, world, side="a"):
        return Consent.objects.create(
            customer=_customer(world, side), channel="app", status="opted_in"
        )

    def existing(self, world, side="a"):
        return world.consent_a if side == "a" else world.consent_b

    def form_data(self, world):
        return {
            "customer": "A-001",
            "channel": "email",
            "status": "opted_out",
            "recorded_at": "2025-01-02T10:00",
            "source": "hotline",
        }

    def edit_data(self, world, obj):
        return {
            "customer": obj.customer.code,
            "channel": obj.channel,
            "status": "opted_out",
            "recorded_at": "2025-02-01T09:00",
            "source": obj.source,
        }

    def edited(self, obj):
        return obj.status == "opted_out"

    def export_text(self, obj):
        return str(obj.customer)

    def search_text(self, obj):
        return obj.customer.code


class TestInteractionViews(ModelViewTests):
    model = Interaction
    grants = SERVICE_RECORDS
    scoped = True

    def make(self, world, side="a"):
        return Interaction.objects.create(
            customer=_customer(world, side), channel="sms", subject=f"Message {next(_seq)}"
        )

    def existing(self, world, side="a"):
        return world.interaction_a if side == "a" else world.interaction_b

    def form_data(self, world):
        return {
            "customer": "A-001",
            "contact": world.contact_a.pk,
            "channel": "phone",
            "direction": "out",
            "occurred_at": "2025-02-03T09:30",
            "subject": "Renewal call",
            "reached": "true",
            "intent": "interested",
        }

    def edit_data(self, world, obj):
        return {
            "customer": obj.customer.code,
            "channel": obj.channel,
            "direction": obj.direction,
            "occurred_at": "2025-02-01T09:00",
            "subject": "Edited subject",
        }

    def edited(self, obj):
        return obj.subject == "Edited subject"

    def export_text(self, obj):
        return obj.subject

    def search_text(self, obj):
        return obj.subject


class TestFeedbackViews(ModelViewTests):
    model = Feedback
    grants = SERVICE_RECORDS
    scoped = True

    def make(self, world, side="a"):
        return Feedback.objects.create(
            customer=_customer(world, side), kind="praise", source="chat", text=f"Nice {next(_seq)}"
        )

    def existing(self, world, side="a"):
        return world.feedback_a if side == "a" else world.feedback_b

    def form_data(self, world):
        return {
            "customer": "A-001",
            "kind": "complaint",
            "source": "call",
            "text": "Late delivery",
            "status": "open",
            "received_at": "2025-02-03T09:30",
        }

    def edit_data(self, world, obj):
        return {
            "customer": obj.customer.code,
            "kind": obj.kind,
            "source": obj.source,
            "text": obj.text,
            "status": "closed",
            "received_at": "2025-02-01T09:00",
        }

    def edited(self, obj):
        return obj.status == "closed"

    def export_text(self, obj):
        return obj.text

    def search_text(self, obj):
        return obj.text


class TestTagViews(ModelViewTests):
    model = Tag
    grants = CUSTOMER_SETTINGS

    def make(self, world, side="a"):
        return Tag.objects.create(name=f"tag-{side}-{next(_seq)}")

    def existing(self, world, side="a"):
        return world.tag if side == "a" else self.make(world, side)

    def form_data(self, world):
        return {"name": "vip", "description": "Top spenders"}

    def edit_data(self, world, obj):
        return {"name": obj.name, "description": "Edited"}

    def edited(self, obj):
        return obj.description == "Edited"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


class TestCustomFieldViews(ModelViewTests):
    model = CustomField
    grants = CUSTOMER_SETTINGS

    def make(self, world, side="a"):
        n = next(_seq)
        return CustomField.objects.create(key=f"field_{n}", label=f"Field {n}", type="text")

    def existing(self, world, side="a"):
        return world.custom_field if side == "a" else self.make(world, side)

    def form_data(self, world):
        return {"key": "region", "label": "Region", "type": "choice", "choices": "East\nWest\n"}

    def edit_data(self, world, obj):
        return {"key": obj.key, "label": "Renamed label", "type": obj.type}

    def edited(self, obj):
        return obj.label == "Renamed label"

    def export_text(self, obj):
        return obj.key

    def search_text(self, obj):
        return obj.key
