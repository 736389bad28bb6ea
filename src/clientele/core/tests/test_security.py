"""Security: lock-out after repeated failed sign-ins, Argon2 password hashes, CSRF on every
form post, HTML escaped in names, formulas neutralised in exports, and a production
configuration that passes `clientele check --deploy`."""

import datetime
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clientele.conftest import PASSWORD
from clientele.core.models import LoginFailure, User
from clientele.core.tests.declarative import csv_rows, xlsx_rows
from clientele.customers.models import Customer

LOGIN = "/login/"


def _sign_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _let_the_lock_window_pass():
    """Move every failure and lock back by more than the lock window (no sleeping)."""
    past = timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
    LoginFailure.objects.update(last_failure_at=past, locked_until=past)


class TestLockout:
    """Lock-out counts failures whatever the hasher; these tests use a fast one (Argon2 is
    checked in TestPasswords) and their own user."""

    @pytest.fixture(autouse=True)
    def fast_hasher(self, settings, db):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        User.objects.create_user("clerk", password=PASSWORD, role="analyst")
        User.objects.create_user("agent", password=PASSWORD, role="service_agent")

    def test_the_right_password_signs_in(self):
        client = Client()
        response = _sign_in(client, "clerk", PASSWORD)
        assert response.status_code == 302
        assert _signed_in(client)

    def test_locked_after_the_limit_even_with_the_right_password(self):
        client = Client()
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            response = _sign_in(client, "clerk", "wrong-password")
            assert response.status_code == 200
            assert not _signed_in(client)
        response = _sign_in(client, "clerk", PASSWORD)
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.content.decode()
        assert not _signed_in(client)
        # The lock follows the user name, whatever address the next try comes from.
        response = _sign_in(Client(), "CLERK", PASSWORD, address="10.9.9.9")
        assert response.status_code == 429

    def test_fewer_failures_than_the_limit_do_not_lock(self):
        client = Client()
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            _sign_in(client, "clerk", "wrong-password")
        response = _sign_in(client, "clerk", PASSWORD)
        assert response.status_code == 302
        assert _signed_in(client)
        # Success forgets the failures: the count starts again.
        assert not LoginFailure.objects.filter(key="user:clerk").exists()

    def test_the_lock_ends_when_the_window_passes(self):
        client = Client()
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            _sign_in(client, "clerk", "wrong-password")
        assert _sign_in(client, "clerk", PASSWORD).status_code == 429
        _let_the_lock_window_pass()
        response = _sign_in(client, "clerk", PASSWORD)
        assert response.status_code == 302
        assert _signed_in(client)

    def test_one_user_locked_does_not_lock_another(self):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            _sign_in(Client(), "clerk", "wrong-password", address="10.0.0.1")
        client = Client()
        assert _sign_in(client, "agent", PASSWORD, address="10.0.0.2").status_code == 302

    def test_an_address_guessing_many_names_is_locked(self, settings):
        settings.LOGIN_FAILURE_LIMIT = 2
        # Addresses get four times the per-user limit (an office shares one address).
        for i in range(4 * 2):
            _sign_in(Client(), f"guess{i}", "wrong-password", address="10.6.6.6")
        response = _sign_in(Client(), "clerk", PASSWORD, address="10.6.6.6")
        assert response.status_code == 429
        assert _sign_in(Client(), "clerk", PASSWORD, address="10.0.0.7").status_code == 302


class TestPasswords:
    def test_passwords_are_stored_as_argon2(self, client_for, world):
        client = client_for("administrator")
        response = client.post(
            reverse("core:user_add"),
            {"username": "newhire", "role": "analyst", "password": "Plenty-of-entropy-91"},
        )
        assert response.status_code == 302
        user = User.objects.get(username="newhire")
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password("Plenty-of-entropy-91")
        assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

    def test_weak_passwords_are_refused(self, client_for, world):
        client = client_for("administrator")
        response = client.post(
            reverse("core:user_add"), {"username": "weak", "role": "analyst", "password": "123"}
        )
        assert response.status_code == 400
        assert "password" in response.context["form"].errors
        assert not User.objects.filter(username="weak").exists()

    def test_user_export_holds_no_password_hash(self, client_for, world):
        response = client_for("administrator").get(reverse("core:user_list"), {"export": "csv"})
        text = "\n".join(",".join(row) for row in csv_rows(response))
        assert "administrator" in text
        assert "argon2" not in text


class TestCsrf:
    def test_a_form_post_without_the_token_is_refused(self, world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.marketing_manager)
        data = {"code": "CSRF-1", "kind": "person", "name": "Forged", "status": "prospect"}
        response = client.post(reverse("customers:customer_add"), data)
        assert response.status_code == 403
        assert not Customer.objects.filter(code="CSRF-1").exists()

        client.get(reverse("customers:customer_add"))
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        response = client.post(
            reverse("customers:customer_add"), data | {"csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        assert Customer.objects.filter(code="CSRF-1").exists()

    def test_sign_in_and_language_need_the_token(self, analyst):
        client = Client(enforce_csrf_checks=True)
        response = client.post(LOGIN, {"username": "analyst", "password": PASSWORD})
        assert response.status_code == 403
        client.force_login(analyst)
        response = client.post(reverse("set_language"), {"language": "zh-hans"})
        assert response.status_code == 403
        analyst.refresh_from_db()
        assert analyst.language == ""

    def test_api_with_a_session_needs_the_token_but_a_token_client_does_not(
        self, world, api_client_for
    ):
        from rest_framework.test import APIClient

        session_client = APIClient(enforce_csrf_checks=True)
        session_client.force_login(world.marketing_manager)
        payload = {"code": "CSRF-API", "name": "Forged"}
        assert session_client.get("/api/customers/").status_code == 200
        response = session_client.post("/api/customers/", payload, format="json")
        assert response.status_code == 403
        assert not Customer.objects.filter(code="CSRF-API").exists()
        response = api_client_for("marketing_manager").post(
            "/api/customers/", payload, format="json"
        )
        assert response.status_code == 201


class TestEscaping:
    NAME = '<script>alert("x")</script><b>Bold</b>'

    def test_html_in_a_customer_name_is_shown_as_text(self, world, client_for):
        customer = Customer.objects.create(code="XSS-1", name=self.NAME, team=world.team_a)
        client = client_for("marketing_manager")
        for url in (
            reverse("customers:customer_list"),
            reverse("customers:customer_detail", args=[customer.pk]),
        ):
            html = client.get(url).content.decode()
            assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html, url
            assert "<script>alert" not in html, url
            assert "<b>Bold</b>" not in html, url

    def test_html_in_a_contact_name_on_the_360_page(self, world, client_for):
        world.contact_a.name = "<img src=x onerror=alert(1)>"
        world.contact_a.save()
        html = client_for("marketing_manager").get(world.customer_a.get_absolute_url())
        text = html.content.decode()
        assert "<img src=x" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text


class TestExportFormulas:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_cells_that_look_like_formulas_are_neutralised(self, fmt, world, client_for):
        Customer.objects.create(code="F-1", name='=HYPERLINK("http://evil","x")')
        Customer.objects.create(code="F-2", name="-10")
        response = client_for("administrator").get(
            reverse("customers:customer_list"), {"q": "F-", "export": fmt}
        )
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        names = {row[1] for row in rows[1:]}
        assert names == {'\'=HYPERLINK("http://evil","x")', "-10"}


def _deploy_env(data_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "HUEY_IMMEDIATE", "CLIENTELE_TEST_DATABASE_NAME")
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        SECURE="1",
        DEBUG="0",
        CLIENTELE_DATA_DIR=str(data_dir),
    )
    return env


def _check_deploy(env, cwd, *options):
    return subprocess.run(
        [sys.executable, "-m", "clientele.cli", "check", "--deploy", *options],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_when_configured_for_production(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = _check_deploy(_deploy_env(data_dir), tmp_path, "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNINGS" not in output


def test_check_deploy_works_on_a_fresh_machine(tmp_path):
    """With SECRET_KEY set no development key is written, so nothing else used to create the
    data folder and the SQLite job queue crashed every command."""
    result = _check_deploy(_deploy_env(tmp_path / "not-created-yet"), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "ERRORS" not in output
