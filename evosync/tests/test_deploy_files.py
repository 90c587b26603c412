"""Docker cannot run on our machines: these tests hold compose.yaml and the Dockerfile to shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def test_has_the_four_services(compose):
    assert set(compose["services"]) == {"db", "redis", "web", "worker"}
    assert compose["services"]["db"]["image"] == "mariadb:11.4"
    assert compose["services"]["redis"]["image"] == "redis:7-alpine"
    assert compose["services"]["web"]["image"] == compose["services"]["worker"]["image"]


@pytest.mark.parametrize("service", ["db", "redis", "web"])
def test_services_have_healthchecks(compose, service):
    check = compose["services"][service]["healthcheck"]
    assert check["test"][0] == "CMD" and len(check["test"]) > 1
    assert _seconds(check["interval"]) > 0 and check["retries"] >= 3


def test_db_keeps_its_data_in_a_named_volume(compose):
    assert "db-data:/var/lib/mysql" in compose["services"]["db"]["volumes"]
    assert "db-data" in compose["volumes"]
    assert "--character-set-server=utf8mb4" in compose["services"]["db"]["command"]


@pytest.mark.parametrize("service", ["web", "worker"])
def test_app_services_wait_for_healthy_db_and_redis(compose, service):
    depends = compose["services"][service]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", ["web", "worker"])
def test_app_services_read_the_env_file_and_use_mariadb_and_redis(compose, service):
    spec = compose["services"][service]
    assert spec["env_file"] == ".env"
    assert spec["environment"]["DATABASE_URL"].startswith("mysql://")
    assert "@db:3306/" in spec["environment"]["DATABASE_URL"]
    assert spec["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert spec["environment"]["DEBUG"] == "false"


def test_web_migrates_writes_schedules_then_serves_on_8080(compose):
    web = compose["services"]["web"]
    script = " ".join(web["command"])
    steps = ["migrate --noinput", "setup_schedules", "exec gunicorn evosync.wsgi:application"]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
    assert web["ports"] == ["8080:8000"]


def test_worker_runs_qcluster_and_outlives_the_task_timeout(compose):
    worker = compose["services"]["worker"]
    assert worker["command"] == ["python", "manage.py", "qcluster"]
    assert _seconds(worker["stop_grace_period"]) > settings.Q_CLUSTER["timeout"]
    assert "ports" not in worker  # scalable: --scale worker=N must not collide on a port
    assert "container_name" not in worker
    assert worker["depends_on"]["web"]["condition"] == "service_healthy"


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.M)
    assert [name for _, name in stages] == ["builder", "runtime"]
    assert all(image.startswith("python:3.12-slim") for image, _ in stages)
    runtime = text.split("AS runtime", 1)[1]
    assert "libmariadb3" in runtime and "libmariadb-dev" not in runtime
    assert "build-essential" not in runtime
    assert re.search(r"^USER evosync$", runtime, re.M)
    assert "HEALTHCHECK" in runtime and "evosync.healthcheck" in runtime
    assert "collectstatic" in text and "compilemessages" in text
    assert 'CMD ["gunicorn", "evosync.wsgi:application"]' in runtime


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", "db.sqlite3*"):
        assert entry in ignored


def test_env_example_lists_every_variable_compose_and_readme_use(compose):
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.M))
    assert documented, "README has a configuration table"
    assert names == documented
    for required in ("SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS", "MARIADB_PASSWORD"):
        assert required in names


def test_every_variable_settings_read_is_documented():
    source = (ROOT / "evosync" / "settings.py").read_text()
    read = set(re.findall(r"""env\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    read |= set(re.findall(r"""_required_in_production\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    read -= {"PYTEST_XDIST_WORKER"}  # set by pytest-xdist itself
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert read, "the pattern found the variables"
    assert read - documented == set()
