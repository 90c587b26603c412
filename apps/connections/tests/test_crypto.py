"""Tokens at rest: encrypted with keys separate from SECRET_KEY, rotatable, never leaked."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from model_bakery import baker

from apps.connections import crypto
from apps.connections.models import EvotorConnection, VkConnection

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
TOKEN = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"


@pytest.fixture
def keys(settings):
    def use(*keys: str) -> None:
        settings.TOKEN_ENCRYPTION_KEYS = list(keys)

    use(KEY_A)
    return use


def test_round_trip(keys):
    stored = crypto.encrypt(TOKEN)
    assert TOKEN not in stored
    assert stored.startswith(crypto.key_id(KEY_A) + "$")
    assert crypto.decrypt(stored) == TOKEN


def test_empty_means_no_token(keys):
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_the_same_token_encrypts_differently_each_time(keys):
    assert crypto.encrypt(TOKEN) != crypto.encrypt(TOKEN)


def test_a_value_from_another_key_raises_instead_of_returning_ciphertext(keys):
    stored = crypto.encrypt(TOKEN)
    keys(KEY_B)
    with pytest.raises(crypto.TokenDecryptionError) as error:
        crypto.decrypt(stored)
    assert TOKEN not in str(error.value) and stored not in str(error.value)


def test_a_tampered_value_raises(keys):
    stored = crypto.encrypt(TOKEN)
    tampered = stored[:-6] + ("AAAAAA" if not stored.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(crypto.TokenDecryptionError):
        crypto.decrypt(tampered)


def test_old_keys_still_decrypt_after_a_new_key_is_put_first(keys):
    stored = crypto.encrypt(TOKEN)
    keys(KEY_B, KEY_A)
    assert crypto.decrypt(stored) == TOKEN
    assert crypto.cipher().needs_rotation(stored)
    assert crypto.encrypt(TOKEN).startswith(crypto.key_id(KEY_B) + "$")


@pytest.mark.django_db
def test_rotation_re_encrypts_every_token_with_the_new_key(keys, merchant, other_merchant):
    evotor = baker.make(EvotorConnection, user=merchant, evotor_user_id="01-000000000000001")
    evotor.cloud_token = TOKEN
    evotor.save()
    vk = baker.make(VkConnection, user=other_merchant)
    vk.access_token, vk.refresh_token = "vk1.a.access", "vk1.a.refresh"
    vk.save()
    keys(KEY_B, KEY_A)
    call_command("rotate_token_keys", batch_size=1)
    keys(KEY_B)  # the old key is gone now
    evotor.refresh_from_db()
    vk.refresh_from_db()
    assert evotor.cloud_token == TOKEN
    assert (vk.access_token, vk.refresh_token) == ("vk1.a.access", "vk1.a.refresh")
    prefix = crypto.key_id(KEY_B) + "$"
    assert evotor.cloud_token_encrypted.startswith(prefix)
    assert vk.refresh_token_encrypted.startswith(prefix)


@pytest.mark.django_db
def test_rotation_reports_values_no_key_can_read(keys, merchant, capsys):
    evotor = baker.make(EvotorConnection, user=merchant, evotor_user_id="01-000000000000001")
    evotor.cloud_token = TOKEN
    evotor.save()
    keys(KEY_B)
    with pytest.raises(CommandError, match="1 token"):
        call_command("rotate_token_keys")
    evotor.refresh_from_db()
    keys(KEY_A)
    assert evotor.cloud_token == TOKEN  # left untouched


@pytest.mark.django_db
def test_the_raw_column_never_contains_the_token(keys, merchant):
    connection = baker.make(EvotorConnection, user=merchant, evotor_user_id="01-000000000000001")
    connection.cloud_token = TOKEN
    connection.save()
    (raw,) = EvotorConnection.objects.values_list("cloud_token_encrypted", flat=True)
    assert raw and TOKEN not in raw
    vk = baker.make(VkConnection, user=merchant)
    vk.access_token = "vk1.a.secret-access-token"
    vk.save()
    raw_vk = VkConnection.objects.values_list("access_token_encrypted", "refresh_token_encrypted")
    assert all("secret-access-token" not in value for value in raw_vk[0])


def test_development_generates_and_reuses_a_local_key(settings, tmp_path):
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.PRODUCTION = False
    settings.BASE_DIR = tmp_path
    first = crypto.encrypt(TOKEN)
    key_file = tmp_path / ".dev-token-key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert crypto.decrypt(first) == TOKEN
    assert crypto.configured_keys() == [key_file.read_text()]


def test_production_without_keys_refuses(settings):
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt(TOKEN)
