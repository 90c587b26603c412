"""The clients are pure HTTP: nothing under ``clients/`` may import Django."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CLIENTS_DIR = Path(__file__).resolve().parents[1] / "clients"
REPO_ROOT = Path(__file__).resolve().parents[3]


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module imported anywhere in ``source`` (nested imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0] if node.args else None
    return name in ("import_module", "__import__") and isinstance(first, ast.Constant)


def client_modules() -> list[Path]:
    return sorted(CLIENTS_DIR.rglob("*.py"))


def test_the_walker_sees_every_import_form() -> None:
    source = (
        "import django\nfrom django.conf import settings\ndef f():\n    import django.db.models\n"
    )
    assert imported_modules(source) == {"django"}
    assert imported_modules("importlib.import_module('django.utils')") == {"django"}
    assert imported_modules("__import__('django')") == {"django"}
    assert "django" in imported_modules("from django import forms")
    assert "django" not in imported_modules("from .django_like import x\nimport requests")


def test_clients_package_has_modules() -> None:
    names = {p.name for p in client_modules()}
    assert {"__init__.py", "errors.py", "evotor.py", "vk.py", "vk_id.py"} <= names


def test_no_client_module_imports_django() -> None:
    offenders = {
        str(path.relative_to(CLIENTS_DIR)): sorted(imports & {"django", "rest_framework"})
        for path in client_modules()
        if (imports := imported_modules(path.read_text(encoding="utf-8"))) & {"django"}
    }
    assert offenders == {}


def test_importing_the_clients_loads_no_django() -> None:
    # A fresh interpreter: under pytest-django, Django is already in sys.modules.
    code = (
        "import sys, apps.connections.clients\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
