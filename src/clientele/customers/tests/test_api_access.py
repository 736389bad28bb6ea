"""Every customer-domain API endpoint for every role, generated from declarations (see
core.tests.declarative.ModelApiTests): anonymous 401, no permission 403, and another
team's records 404 and absent from lists for an account manager."""

import itertools

from clientele.core.tests.declarative import (
    CUSTOMER_DATA,
    CUSTOMER_SETTINGS,
    SERVICE_RECORDS,
    ModelApiTests,
)
from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction, Tag

_seq = itertools.count(1)


def _customer(world, side):
    return world.customer_a if side == "a" else world.customer_b


class TestCustomerApi(ModelApiTests):
    endpoint = "/api/customers/"
    model = Customer
    grants = CUSTOMER_DATA
    scoped = True
    patch = {"name": "Patched"}

    def make(self, world, side="a"):
        owner, team = (
            (world.account_manager, world.team_a)
            if side == "a"
            else (world.account_manager_b, world.team_b)
        )
        return Customer.objects.create(
            code=f"API-{side}-{next(_seq)}", name="Api", owner=owner, team=team
        )

    def existing(self, world, side="a"):
        return _customer(world, side)

    def payload(self, world):
        return {
            "code": "API-NEW",
            "name": "Api Person",
            "kind": "person",
            "owner": world.account_manager.pk,
            "team": world.team_a.pk,
            "tags": ["key-account"],
        }

    def patched(self, obj):
        return obj.name == "Patched"


class TestContactApi(ModelApiTests):
    endpoint = "/api/contacts/"
    model = Contact
    grants = CUSTOMER_DATA
    scoped = True
    patch = {"title": "Patched"}

    def make(self, world, side="a"):
        return Contact.objects.create(customer=_customer(world, side), name=f"C {next(_seq)}")

    def existing(self, world, side="a"):
        return world.contact_a if side == "a" else world.contact_b

    def payload(self, world):
        return {"customer": "A-001", "name": "Api Contact", "decision_role": "user"}

    def patched(self, obj):
        return obj.title == "Patched"


class TestConsentApi(ModelApiTests):
    endpoint = "/api/consents/"
    model = Consent
    grants = SERVICE_RECORDS
    scoped = True
    patch = {"status": "opted_out"}

    def make(self, world, side="a"):
        return Consent.objects.create(
            customer=_customer(world, side), channel="mail", status="opted_in"
        )

    def existing(self, world, side="a"):
        return world.consent_a if side == "a" else world.consent_b

    def payload(self, world):
        return {"customer": "A-001", "channel": "email", "status": "opted_in", "source": "api"}

    def patched(self, obj):
        return obj.status == "opted_out"


class TestInteractionApi(ModelApiTests):
    endpoint = "/api/interactions/"
    model = Interaction
    grants = SERVICE_RECORDS
    scoped = True
    patch = {"subject": "Patched"}

    def make(self, world, side="a"):
        return Interaction.objects.create(customer=_customer(world, side), channel="chat")

    def existing(self, world, side="a"):
        return world.interaction_a if side == "a" else world.interaction_b

    def payload(self, world):
        return {"customer": "A-001", "channel": "phone", "direction": "in", "subject": "Api call"}

    def patched(self, obj):
        return obj.subject == "Patched"


class TestFeedbackApi(ModelApiTests):
    endpoint = "/api/feedback/"
    model = Feedback
    grants = SERVICE_RECORDS
    scoped = True
    patch = {"status": "answered"}

    def make(self, world, side="a"):
        return Feedback.objects.create(
            customer=_customer(world, side), kind="question", source="chat", text="?"
        )

    def existing(self, world, side="a"):
        return world.feedback_a if side == "a" else world.feedback_b

    def payload(self, world):
        return {"customer": "A-001", "kind": "question", "source": "chat", "text": "Opening hours?"}

    def patched(self, obj):
        return obj.status == "answered"


class TestTagApi(ModelApiTests):
    endpoint = "/api/tags/"
    model = Tag
    grants = CUSTOMER_SETTINGS
    patch = {"description": "Patched"}

    def make(self, world, side="a"):
        return Tag.objects.create(name=f"api-tag-{next(_seq)}")

    def existing(self, world, side="a"):
        return world.tag

    def payload(self, world):
        return {"name": "api-tag", "description": "From the API"}

    def patched(self, obj):
        return obj.description == "Patched"
