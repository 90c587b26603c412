"""Settings are parsed strictly: a typo or a missing production secret stops the start."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from django.conf import settings as live_settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(live_settings.BASE_DIR) / "evosync" / "settings.py"
FERNET_KEY = "Jqz0o0m5gYpQbV0cQ3Yb1q3v8t1m0Q3xXr9s5pYw0a8="
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "shop.example.com,www.shop.example.com",
    "TOKEN_ENCRYPTION_KEYS": FERNET_KEY,
    "EVOSYNC_TESTING": "false",
}


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate settings.py afresh under exactly the given environment (nothing inherited)."""

    def load(**environ: str) -> dict:
        for key in list(os.environ):
            if key not in {"PATH", "HOME", "LANG"}:
                monkeypatch.delenv(key)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_runs_with_no_environment_at_all(load_settings):
    conf = load_settings()
    assert conf["DEBUG"] is True
    assert conf["DATABASES"]["default"]["ENGINE"] == "evosync.db.sqlite3"
    assert conf["DATABASES"]["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert conf["DATABASES"]["default"]["OPTIONS"]["timeout"] >= 5
    assert conf["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert conf["SANDBOX_ENABLED"] is True
    assert "apps.sandbox" in conf["INSTALLED_APPS"]
    assert conf["LANGUAGE_CODE"] == "ru"
    assert conf["TIME_ZONE"] == "UTC" and conf["USE_TZ"] is True
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize("word", ["flase", "maybe", "2", "TRUE!"])
def test_a_bad_boolean_is_a_clear_error(load_settings, word):
    with pytest.raises(ImproperlyConfigured, match=f"DEBUG={word!r} is not a boolean"):
        load_settings(DEBUG=word)


@pytest.mark.parametrize("word,expected", [("off", False), ("0", False), ("Yes", True)])
def test_booleans_accept_the_usual_words(load_settings, word, expected):
    assert load_settings(SANDBOX_ENABLED=word)["SANDBOX_ENABLED"] is expected


def test_a_bad_number_is_a_clear_error(load_settings):
    with pytest.raises(ImproperlyConfigured, match="Q_WORKERS='many' is not a whole number"):
        load_settings(Q_WORKERS="many")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_a_secret(load_settings, missing):
    environ = {key: value for key, value in PRODUCTION.items() if key != missing}
    with pytest.raises(ImproperlyConfigured, match=f"{missing} must be set"):
        load_settings(**environ)


def test_production_turns_on_the_secure_baseline(load_settings):
    conf = load_settings(**PRODUCTION)
    assert conf["DEBUG"] is False
    assert conf["SANDBOX_ENABLED"] is False
    assert "apps.sandbox" not in conf["INSTALLED_APPS"]
    assert conf["SESSION_COOKIE_SECURE"] and conf["CSRF_COOKIE_SECURE"]
    assert conf["SECURE_SSL_REDIRECT"] is True
    assert conf["SECURE_HSTS_SECONDS"] >= 31536000
    assert conf["ALLOWED_HOSTS"] == ["shop.example.com", "www.shop.example.com"]
    assert conf["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert conf["Q_CLUSTER"]["sync"] is False
    assert "CompressedManifest" in conf["STORAGES"]["staticfiles"]["BACKEND"]


def test_secrets_can_come_from_files(load_settings, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file-" + "x" * 60 + "\n")
    environ = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    conf = load_settings(SECRET_KEY_FILE=str(secret), **environ)
    assert conf["SECRET_KEY"] == "from-a-file-" + "x" * 60


def test_an_unreadable_secret_file_is_a_clear_error(load_settings, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE=.* cannot be read"):
        load_settings(SECRET_KEY_FILE=str(tmp_path / "nope"))


def test_mysql_url_uses_utf8mb4_and_health_checked_persistent_connections(load_settings):
    conf = load_settings(DATABASE_URL="mysql://evosync:pw@db:3306/evosync")
    database = conf["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.mysql"
    assert database["OPTIONS"]["charset"] == "utf8mb4"
    assert database["TEST"]["CHARSET"] == "utf8mb4"
    assert database["CONN_HEALTH_CHECKS"] is True
    assert 0 < database["CONN_MAX_AGE"] <= 600
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db", 3306, "evosync")


def test_redis_url_selects_djangos_redis_cache(load_settings):
    conf = load_settings(REDIS_URL="redis://cache:6379/1")
    cache = conf["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache:6379/1"


def test_q_cluster_retry_exceeds_timeout_for_any_timeout(load_settings):
    conf = load_settings(Q_TASK_TIMEOUT="60")
    assert conf["Q_CLUSTER"]["retry"] > conf["Q_CLUSTER"]["timeout"] == 60
    assert conf["Q_CLUSTER"]["ack_failures"] is True
    assert conf["Q_CLUSTER"]["catch_up"] is False
    assert conf["Q_CLUSTER"]["orm"] == "default"


def test_the_test_run_uses_inline_tasks_and_a_fast_hasher():
    assert live_settings.Q_CLUSTER["sync"] is True
    assert "MD5" in live_settings.PASSWORD_HASHERS[0]


# --- EMAIL_URL: every key the URL gives is honoured ---------------------------------------------


def test_filemail_url_sets_the_directory(load_settings):
    conf = load_settings(EMAIL_URL="filemail:///var/mail/evosync")
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    # Like sqlite:///, three slashes are relative to the project and four are absolute.
    assert conf["EMAIL_FILE_PATH"] == str(Path(live_settings.BASE_DIR) / "var/mail/evosync")
    assert load_settings(EMAIL_URL="filemail:////srv/mail")["EMAIL_FILE_PATH"] == "/srv/mail"


def test_filemail_without_a_directory_is_a_clear_error(load_settings):
    with pytest.raises(ImproperlyConfigured, match="filemail needs a directory"):
        load_settings(EMAIL_URL="filemail://")


def test_smtp_url_sets_every_part_and_query_parameters(load_settings):
    conf = load_settings(
        EMAIL_URL="smtp+tls://mailer:p%40ss@smtp.example.com:587"
        "?timeout=7.5&ssl_certfile=/etc/cert.pem&ssl_keyfile=/etc/key.pem&use_localtime=yes"
    )
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (conf["EMAIL_HOST"], conf["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (conf["EMAIL_HOST_USER"], conf["EMAIL_HOST_PASSWORD"]) == ("mailer", "p@ss")
    assert conf["EMAIL_USE_TLS"] is True and conf["EMAIL_USE_SSL"] is False
    assert conf["EMAIL_TIMEOUT"] == 7.5
    assert conf["EMAIL_SSL_CERTFILE"] == "/etc/cert.pem"
    assert conf["EMAIL_SSL_KEYFILE"] == "/etc/key.pem"
    assert conf["EMAIL_USE_LOCALTIME"] is True


def test_smtp_ssl_url_and_defaults(load_settings):
    conf = load_settings(EMAIL_URL="smtp+ssl://smtp.example.com:465")
    assert conf["EMAIL_USE_SSL"] is True and conf["EMAIL_USE_TLS"] is False
    assert (conf["EMAIL_HOST_USER"], conf["EMAIL_HOST_PASSWORD"]) == ("", "")
    assert conf["EMAIL_TIMEOUT"] == 20
    console = load_settings()
    assert (console["EMAIL_HOST"], console["EMAIL_PORT"]) == ("localhost", 25)


@pytest.mark.parametrize(
    "url,message",
    [
        ("smtp://h:25?colour=blue", "unknown parameter 'colour'"),
        ("smtp://h:25?use_tls=perhaps", "is not a boolean"),
        ("smtp://h:25?timeout=soon", "is not a number"),
        ("smtp+ssl://h:465?use_tls=1", "either TLS or SSL"),
        ("carrierpigeon://h", "Invalid email schema"),
    ],
)
def test_a_bad_email_url_is_a_clear_error(load_settings, url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load_settings(EMAIL_URL=url)


@pytest.mark.django_db
def test_sign_up_works_with_filemail(client, settings, tmp_path, load_settings):
    """The reported 500: sign-up sends its confirmation email through the file backend."""
    conf = load_settings(EMAIL_URL=f"filemail:///{tmp_path / 'mail'}")
    for name, value in conf.items():
        if name.startswith("EMAIL_"):
            setattr(settings, name, value)
    password = "correct-Horse-battery-9"
    response = client.post("/register", {
        "first_name": "Ольга", "last_name": "Иванова", "email": "olga@example.com",
        "phone": "+7 (903) 555-12-34", "password1": password, "password2": password,
    })
    assert response.status_code == 302
    (written,) = (tmp_path / "mail").iterdir()
    assert "olga@example.com" in written.read_text()
