"""`make run`'s demo: a merchant connected to the sandbox, whose first refresh really runs."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from evosync.management.commands.demo_setup import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_demo_merchant_is_connected_and_its_catalog_refreshed(live_server, settings, capsys):
    settings.SITE_URL = live_server.url
    settings.EVOTOR_API_URL = f"{live_server.url}/sandbox/evotor"
    settings.VK_API_URL = f"{live_server.url}/sandbox/vk"
    settings.VK_ID_URL = f"{live_server.url}/sandbox/vkid"
    call_command("demo_setup", products=30, groups=4)
    call_command("demo_setup")  # idempotent
    assert f"{DEMO_EMAIL} / password {DEMO_PASSWORD}" in capsys.readouterr().out
    user = User.objects.get(email=DEMO_EMAIL)
    assert user.check_password(DEMO_PASSWORD) and user.is_email_confirmed
    evotor = EvotorConnection.objects.get(user=user)
    vk = VkConnection.objects.get(user=user)
    assert evotor.state == vk.state == ConnectionState.ONLINE
    assert evotor.cloud_token and vk.access_token and vk.group_id
    # Tests run tasks inline: the queued first refresh went to the sandbox over HTTP.
    assert Product.objects.filter(user=user).count() == 30
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1


def test_refuses_without_the_sandbox(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="SANDBOX_ENABLED"):
        call_command("demo_setup")
