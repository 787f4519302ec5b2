from django.core.management import call_command
from django.test import Client


def test_openapi_schema_is_valid_and_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/tenants/", "/api/v1/users/", "/api/v1/memberships/", "/api/v1/auth/token/"):
        assert f"  {path}:" in schema


def test_schema_and_docs_are_served(db):
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Vigil API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()  # self-hosted: no third-party assets


def test_every_operation_declares_one_request_media_type(db):
    """Generated clients send what the schema says; with several media types for one body,
    openapi-python-client's code does not even import (`Unset` undefined). JSON, or multipart for uploads."""
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    bodies = {
        (method, path): list(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }
    assert bodies
    assert {key: types for key, types in bodies.items() if len(types) != 1} == {}
    uploads = {key for key, types in bodies.items() if types == ["multipart/form-data"]}
    assert uploads == {("post", "/api/v1/evidence/"), ("post", "/api/v1/obligations/{id}/submit/")}
    assert all(types in (["application/json"], ["multipart/form-data"]) for types in bodies.values())
