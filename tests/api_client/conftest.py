"""A Python client generated from the served OpenAPI schema by openapi-python-client, as an integrator
would make it (no configuration, no hand edits): generated once per session into a temporary directory and
imported from there."""

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

PACKAGE = "vigil_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="session")
def generation(django_db_setup, live_server, tmp_path_factory):
    """The generator run against the live server's /api/schema/: its exit status, output and the package.
    (After the test database: the server, and its connection, stop before the database is dropped.)"""
    root = tmp_path_factory.mktemp("generated")
    command = [
        str(GENERATOR),
        "generate",
        "--url",
        f"{live_server.url}/api/schema/?format=json",
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--fail-on-warning",
    ]
    # The generator formats its output with ruff (a dev dependency, beside this interpreter).
    environment = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment)
    return SimpleNamespace(result=result, root=root, output=result.stdout + result.stderr)


@pytest.fixture(scope="session")
def vigil_client(generation):
    """The generated package, imported: its `models`, `types`, client classes and `endpoint(name)`, one
    module per operation (e.g. "v1_reports_create")."""
    assert generation.result.returncode == 0, generation.output
    sys.path.insert(0, str(generation.root))
    try:
        package = importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generation.root))  # submodules are found through the package from now on
    return SimpleNamespace(
        root=generation.root / PACKAGE,
        Client=package.Client,
        AuthenticatedClient=package.AuthenticatedClient,
        models=importlib.import_module(f"{PACKAGE}.models"),
        types=importlib.import_module(f"{PACKAGE}.types"),
        endpoint=lambda name: importlib.import_module(f"{PACKAGE}.api.v1.{name}"),
    )
