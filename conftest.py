"""Fixtures shared by every app's tests: merchants, staff, a clean cache, no network."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.utils import translation
from model_bakery import baker

PASSWORD = "correct-Horse-battery-9"

# --- No network in tests ------------------------------------------------------------------------
# Tests are hermetic: providers are mocked (responses) or served by the sandbox on a live server.
# Every test runs with Python sockets limited to the database and Redis; a test that uses the
# `live_server` fixture may also reach that server, and an `e2e` test (it starts real servers on
# free ports) any loopback address. Anything else raises NetworkBlocked at once, which is not an
# OSError, so no client retries it or records it as a provider outage. The provider URLs of the
# test settings point at `.invalid` hosts (evosync/settings.py), so a forgotten mock lands here
# instead of on a developer's running server. A test that must reach a dead port on purpose
# says so: @pytest.mark.allow_connect(("127.0.0.1", 1)).

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(RuntimeError):
    """A test tried to open a connection it has no business opening."""


class _Policy:
    """What the running test may connect to: (host, port) pairs, or any port on loopback."""

    def __init__(self, allowed: set[tuple[str, int]], any_loopback: bool) -> None:
        self.allowed = allowed
        self.any_loopback = any_loopback
        self.hosts = {host for host, _ in allowed} | (LOOPBACK if any_loopback else set())

    def check(self, host: str, port: int | None) -> None:
        host = str(host).lower()
        if self.any_loopback and (host in LOOPBACK or host.startswith("127.")):
            return
        if port is None and host in self.hosts:  # name resolution: the port is checked later
            return
        if (host, port) in self.allowed:
            return
        raise NetworkBlocked(
            f"tests may not connect to {host}:{port}; mock the provider (responses) or use the "
            "sandbox on live_server (see the note in the root conftest.py)"
        )


_policy: _Policy | None = None


def _guarded_address(sock: socket.socket, address) -> None:
    if _policy is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    _policy.check(address[0], address[1])


def _connect(self, address):
    _guarded_address(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _guarded_address(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host, port, *args, **kwargs):
    if _policy is not None and host is not None:
        _policy.check(host.decode() if isinstance(host, bytes) else host, None)
    return _real_getaddrinfo(host, port, *args, **kwargs)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.getaddrinfo = _getaddrinfo


def _addresses(host: str, port: int) -> set[tuple[str, int]]:
    """The host as named and every address it resolves to (connect() sees the addresses)."""
    found = {(host.lower(), port)}
    try:
        found |= {(info[4][0], port) for info in _real_getaddrinfo(host, port)}
    except OSError:
        pass
    return found


def _service_addresses() -> set[tuple[str, int]]:
    """The database server and Redis, as the settings name them."""
    allowed: set[tuple[str, int]] = set()
    for database in settings.DATABASES.values():
        if database.get("HOST"):
            allowed |= _addresses(database["HOST"], int(database.get("PORT") or 3306))
    if settings.REDIS_URL:
        redis = urlsplit(settings.REDIS_URL)
        allowed |= _addresses(redis.hostname or "localhost", redis.port or 6379)
    return allowed


@pytest.fixture(scope="session")
def _services() -> set[tuple[str, int]]:
    return _service_addresses()


@pytest.fixture(autouse=True)
def _no_network(request, _services):
    global _policy
    allowed = set(_services)
    live = "live_server" in request.fixturenames
    if live:
        server = urlsplit(request.getfixturevalue("live_server").url)
        allowed |= {(host, server.port) for host in LOOPBACK | {server.hostname}}
    for marker in request.node.iter_markers("allow_connect"):
        allowed |= {(host, int(port)) for host, port in marker.args}
    e2e = request.node.get_closest_marker("e2e") is not None
    _policy = _Policy(allowed, any_loopback=e2e and not live)
    try:
        yield
    finally:
        _policy = None


# --- Parallel runs (pytest -n) ------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix(request) -> None:
    """One test database per xdist worker, recognising our SQLite engine.

    pytest-django suffixes the test database's name per worker but knows SQLite only by
    Django's own engine path; ours (evosync.db.sqlite3) got a file name under a directory that
    does not exist, and every test errored. SQLite's test database is in memory, private to
    each worker process already; a server database (MariaDB) gets test_<name>_gw<N>.
    """
    from django.db import connections

    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if not worker:
        return
    for alias, database in settings.DATABASES.items():
        test = database.setdefault("TEST", {})
        if connections[alias].vendor == "sqlite":
            if test.get("NAME") not in (None, "", ":memory:"):
                test["NAME"] = f"{test['NAME']}_{worker}"
            continue
        test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{worker}"


def _clear_own_cache_keys() -> None:
    """Only this run's keys (the prefix names the xdist worker): FLUSHDB would wipe the keys of
    the other workers sharing the Redis database, in the middle of their tests."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _default_language():
    """Requests activate the signed-in user's language on the test's own thread, and Django
    leaves it active after the response: put Russian back so no test depends on the order."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Redis outlives test transactions: throttles and rate limits must not leak between tests.

    The database cache (the default without Redis) lives in the test database and is rolled
    back with each test, so it needs nothing here.
    """
    if isinstance(caches["default"], DatabaseCache):
        yield
        return
    clear = _clear_own_cache_keys if isinstance(caches["default"], RedisCache) else cache.clear
    clear()
    yield
    clear()


def _merchant(email: str, phone: str):
    user = baker.make(
        "accounts.User",
        email=email,
        phone=phone,
        first_name="Иван",
        last_name="Петров",
        is_email_confirmed=True,
    )
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def merchant(db):
    return _merchant("merchant@example.com", "+79161234567")


@pytest.fixture
def other_merchant(db):
    return _merchant("other@example.com", "+79167654321")


@pytest.fixture
def staff_user(db):
    return baker.make(
        "accounts.User", email="staff@example.com", is_staff=True, is_superuser=True,
        is_email_confirmed=True,
    )
