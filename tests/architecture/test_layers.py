"""Import direction and API-layer rules of design.md ("Layers and apps", rule 1), checked on the source.

    core <- accounts <- tenancy <- catalog <- response <- reporting
         <- {assessment, evidence, notifications, reviews} <- insights <- web

Imports point down only; apps on the same level do not import each other. `audit` imports `core` and
`tenancy` only; other apps may import `apps.audit.selectors` (to read), never audit's models or services
(audit is written only by the domain-event subscriber).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.views import APIView

from apps.tenancy.api.base import TenantScopedViewSet

ROOT = Path(__file__).resolve().parents[2]
APPS_DIR = ROOT / "apps"

LEVELS: dict[str, int] = {
    "core": 0,
    "accounts": 1,
    "tenancy": 2,
    "catalog": 3,
    "response": 4,
    "reporting": 5,
    "assessment": 6,
    "evidence": 6,
    "notifications": 6,
    "reviews": 6,
    "insights": 7,
    "web": 8,
}
AUDIT = "audit"
AUDIT_MAY_IMPORT = {"core", "tenancy"}
AUDIT_READ_API = "apps.audit.selectors"

# View classes in apps/*/api/views.py allowed to skip TenantScopedViewSet, with the reason.
RAW_VIEW_ALLOWED: dict[tuple[str, str], str] = {
    ("apps/tenancy/api/views.py", "AuthTokenView"): "sign-in happens before any tenant exists",
}
RAW_DRF_BASES = {
    "APIView",
    "GenericAPIView",
    "ViewSet",
    "ViewSetMixin",
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
}


def _app_dirs() -> list[str]:
    return sorted(p.name for p in APPS_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _sources(pattern: str = "**/*.py") -> list[Path]:
    return sorted(p for p in APPS_DIR.glob(pattern) if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the file, relative imports resolved, `from x import y`
    reported as `x.y` (so `from apps.audit import selectors` reads as apps.audit.selectors)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _violations(path: Path) -> list[str]:
    app = path.relative_to(APPS_DIR).parts[0]
    where = path.relative_to(ROOT)
    problems = []
    for line, module in _imported_modules(path):
        parts = module.split(".")
        if parts[0] != "apps" or len(parts) < 2 or parts[1] == app:
            continue
        target = parts[1]
        if target not in LEVELS and target != AUDIT:
            if (APPS_DIR / target).is_dir():
                problems.append(f"{where}:{line} imports {module}: app {target!r} has no place in LEVELS")
            continue
        if app == AUDIT:
            if target not in AUDIT_MAY_IMPORT:
                problems.append(
                    f"{where}:{line} imports {module}: audit imports only {sorted(AUDIT_MAY_IMPORT)}"
                )
            continue
        if target == AUDIT:
            if LEVELS[app] <= LEVELS["tenancy"]:
                problems.append(
                    f"{where}:{line} imports {module}: audit sits above {app} (it imports tenancy)"
                )
            elif not (module == AUDIT_READ_API or module.startswith(AUDIT_READ_API + ".")):
                problems.append(
                    f"{where}:{line} imports {module}: only {AUDIT_READ_API} may be imported (read)"
                )
            continue
        if LEVELS[target] == LEVELS[app]:
            problems.append(f"{where}:{line} imports {module}: {app} and {target} are on the same level")
        elif LEVELS[target] > LEVELS[app]:
            problems.append(f"{where}:{line} imports {module}: {app} may not import the higher app {target}")
    return problems


def test_every_app_has_a_place_in_the_layers():
    unplaced = sorted(set(_app_dirs()) - set(LEVELS) - {AUDIT})
    assert not unplaced, f"apps missing from LEVELS (and design.md): {unplaced}"


@pytest.mark.parametrize("app", _app_dirs())
def test_imports_point_down_only(app):
    problems = [p for path in _sources(f"{app}/**/*.py") for p in _violations(path)]
    assert not problems, "Layer violations (design.md, Layers and apps):\n" + "\n".join(problems)


def test_the_checker_sees_violations(tmp_path, monkeypatch):
    """The rule above is only as good as its parser: feed it known-bad files."""
    fake = tmp_path / "apps"
    for app in ("core", "response", "reviews", "evidence", "audit", "web"):
        (fake / app / "api").mkdir(parents=True)
        (fake / app / "__init__.py").write_text("")
        (fake / app / "api" / "__init__.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "APPS_DIR", fake)
    cases = {
        "core/x.py": ("from apps.response.models import Incident\n", "higher app"),
        "reviews/x.py": ("import apps.evidence.services\n", "same level"),
        "audit/x.py": ("from apps.response import selectors\n", "audit imports only"),
        "web/x.py": ("from apps.audit.services import audit_record\n", "only apps.audit.selectors"),
        "response/api/x.py": ("from ...reviews import services\n", "higher app"),
    }
    for rel, (source, expected) in cases.items():
        (fake / rel).write_text(source)
        problems = _violations(fake / rel)
        assert problems, rel
        assert expected in problems[0], (rel, problems)
    (fake / "web/ok.py").write_text(
        "from apps.audit import selectors\nfrom apps.response.models import Incident\n"
    )
    assert _violations(fake / "web/ok.py") == []


# --------------------------------------------------------------------------------------------------
# API layer: the tenant choke point is not bypassed
# --------------------------------------------------------------------------------------------------


def _api_sources() -> list[Path]:
    return _sources("*/api/**/*.py")


def test_no_unscoped_manager_in_api_code():
    uses = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _api_sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "unscoped"
    ]
    assert not uses, (
        "`.unscoped` in API code bypasses the tenant choke point; read through a selector instead: "
        + ", ".join(uses)
    )


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def test_api_views_do_not_subclass_raw_drf_views():
    offenders = []
    for path in _sources("*/api/views.py"):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ClassDef)
                and _base_names(node) & RAW_DRF_BASES
                and (rel, node.name) not in RAW_VIEW_ALLOWED
            ):
                offenders.append(f"{rel}:{node.lineno} {node.name}({', '.join(sorted(_base_names(node)))})")
    assert not offenders, "API views must subclass TenantScopedViewSet (it enters activate()): " + "; ".join(
        offenders
    )


def test_every_api_view_class_enters_the_tenant_context():
    """The same rule at runtime, which also catches indirect bases (generics.ListAPIView, ...) and views
    wired in config/ rather than defined in an app."""
    offenders = []
    for path in _sources("*/api/views.py"):
        module = importlib.import_module(_module_name(path))
        rel = str(path.relative_to(ROOT))
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, APIView):
                continue
            if not issubclass(cls, TenantScopedViewSet) and (rel, name) not in RAW_VIEW_ALLOWED:
                offenders.append(f"{rel}: {name}")

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    allowed_names = {name for _, name in RAW_VIEW_ALLOWED}
    for route, pattern in walk(get_resolver()):
        cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
        if (
            route.startswith("api/v1/")
            and cls is not None
            and issubclass(cls, APIView)
            and not issubclass(cls, TenantScopedViewSet)
            and cls.__name__ not in allowed_names
        ):
            offenders.append(f"/{route}: {cls.__module__}.{cls.__name__}")
    assert not offenders, "API views outside the tenant choke point: " + "; ".join(offenders)
