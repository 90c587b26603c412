from __future__ import annotations

import pytest
import responses

from apps.catalog.tests.evotor_fake import BASE, USER, FakeEvotor
from apps.connections.clients import NO_RETRY
from apps.connections.models import ConnectionState, EvotorConnection
from apps.connections.providers import evotor_client

CLOUD_TOKEN = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"


@pytest.fixture
def evotor(settings):
    settings.EVOTOR_API_URL = BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocker:
        yield FakeEvotor(mocker)


@pytest.fixture
def connected(merchant):
    connection = EvotorConnection(
        user=merchant, evotor_user_id=USER, state=ConnectionState.ONLINE
    )
    connection.cloud_token = CLOUD_TOKEN
    connection.save()
    return connection


@pytest.fixture
def client_factory():
    """A real EvotorClient that does not retry or sleep (failures surface at once)."""
    return lambda: evotor_client(CLOUD_TOKEN, retry=NO_RETRY, sleep=lambda seconds: None)
