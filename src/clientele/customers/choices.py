"""Choices for the customer domain, with English and Chinese labels through gettext."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organization")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    LOST = "lost", _("Lost")


class CustomerSource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    VISIT = "visit", _("Visit")
    EXHIBITION = "exhibition", _("Exhibition")
    ASSOCIATION = "association", _("Association")
    WEB = "web", _("Web")
    PRESS = "press", _("Press")
    STORE = "store", _("Store")
    STAFF = "staff", _("Customer's staff")
    OTHER = "other", _("Other")


class OrganizationSize(models.TextChoices):
    MICRO = "micro", _("Micro (< 10 people)")
    SMALL = "small", _("Small (10-99)")
    MEDIUM = "medium", _("Medium (100-999)")
    LARGE = "large", _("Large (1,000+)")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class DecisionRole(models.TextChoices):
    KEY_MAN = "key_man", _("Decision maker (key man)")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class ConsentChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    MAIL = "mail", _("Mail")
    APP = "app", _("App")


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", _("Opted in")
    OPTED_OUT = "opted_out", _("Opted out")


class InteractionChannel(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    STORE = "store", _("Store")
    HOTLINE = "hotline", _("Hotline")
    WEB = "web", _("Web")
    EVENT = "event", _("Event")
    CHAT = "chat", _("Chat")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Intent(models.TextChoices):
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class FeedbackKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    QUESTION = "question", _("Question")


class FeedbackSource(models.TextChoices):
    REVIEW = "review", _("Review")
    CHAT = "chat", _("Chat")
    CALL = "call", _("Call")
    SURVEY = "survey", _("Survey")
    VISIT = "visit", _("Visit")


class FeedbackStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
