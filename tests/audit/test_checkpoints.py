"""Signed checkpoints (issue 14): each chain's head, recorded daily, signed with Ed25519, written to the
evidence storage, exportable (API for auditors, a management command for operators), and verified
offline with the real openssl binary, with the README's own command."""

import json
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connections, transaction

from apps.audit import keys
from apps.audit.checkpoints import audit_record_chain_heads, checkpoint_verify
from apps.audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry
from apps.audit.selectors import audit_chain_verify, audit_extract_checkpoint_check
from apps.core.events import publish
from apps.evidence.verification import package_check
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "system"])

ROOT = Path(__file__).resolve().parents[2]
OPENSSL = shutil.which("openssl")
OFFLINE_CHECK = (
    "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in checkpoint.json -sigfile checkpoint.sig"
)


@pytest.fixture
def recorded(make_member, superuser):
    a, b = TenantFactory(name="Alpha"), TenantFactory(name="Bravo")
    with transaction.atomic():
        for tenant in (a, b):
            publish(verb="test.event", actor=superuser, target=tenant, tenant_id=tenant.pk)
        publish(verb="platform.event", actor=superuser, target=superuser)
    assert audit_record_chain_heads() == 3
    return {"a": a, "b": b, "auditor": make_member("auditor", a)}


def _openssl(command: str, cwd: Path) -> subprocess.CompletedProcess:
    assert OPENSSL, "the openssl binary is needed (apt-get install openssl)"
    return subprocess.run(
        shlex.split(command), cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )


def _download(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/octet-stream"
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_auditor_downloads_a_checkpoint_and_verifies_it_offline_with_openssl(
    recorded, api_client_for, tmp_path
):
    client = api_client_for(recorded["auditor"])
    listing = client.get("/api/v1/audit/checkpoints/")
    assert listing.status_code == 200
    [item] = listing.json()["results"]  # its own tenant's chain: not Bravo's, not the platform's
    head = AuditEntry.unscoped.get(chain=str(recorded["a"].pk))
    assert (item["chain"], item["seq"], item["hash"]) == (str(recorded["a"].pk), head.seq, head.hash)
    document = json.loads(item["checkpoint"])
    assert document["seq"] == head.seq
    assert document["hash"] == head.hash
    assert document["tenant"] == str(recorded["a"].pk)

    base = f"/api/v1/audit/checkpoints/{item['id']}"
    (tmp_path / "pub.pem").write_bytes(_download(client, "/api/v1/audit/checkpoints/public-key/"))
    (tmp_path / "checkpoint.json").write_bytes(_download(client, f"{base}/document/"))
    (tmp_path / "checkpoint.sig").write_bytes(_download(client, f"{base}/signature/"))
    assert (tmp_path / "checkpoint.json").read_text() == item["checkpoint"]
    assert (tmp_path / "checkpoint.sig").read_bytes().hex() == item["signature"]

    verified = _openssl(OFFLINE_CHECK, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Signature Verified Successfully" in verified.stdout

    # A checkpoint edited afterwards (an earlier head claimed) does not verify.
    (tmp_path / "checkpoint.json").write_text(item["checkpoint"].replace(f'"seq":{head.seq}', '"seq":0'))
    refused = _openssl(OFFLINE_CHECK, tmp_path)
    assert refused.returncode != 0
    assert "Signature Verification Failure" in refused.stdout + refused.stderr


def test_the_readme_recipe_is_the_command_that_verifies(recorded, api_client_for, tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Audit trail") :]
    section = section[: section.index("\n## ", 1)]
    commands = [line.strip() for line in section.splitlines() if line.strip().startswith("openssl pkeyutl")]
    assert commands == [OFFLINE_CHECK]
    assert "/api/v1/audit/checkpoints/public-key/" in section
    assert "export_audit_checkpoints" in section
    client = api_client_for(recorded["auditor"])
    [item] = client.get("/api/v1/audit/checkpoints/").json()["results"]
    base = f"/api/v1/audit/checkpoints/{item['id']}"
    (tmp_path / "pub.pem").write_bytes(_download(client, "/api/v1/audit/checkpoints/public-key/"))
    (tmp_path / "checkpoint.json").write_bytes(_download(client, f"{base}/document/"))
    (tmp_path / "checkpoint.sig").write_bytes(_download(client, f"{base}/signature/"))
    assert _openssl(commands[0], tmp_path).returncode == 0


def test_checkpoints_are_written_to_the_evidence_storage(recorded):
    storage = storages["evidence"]
    heads = list(AuditChainHead.objects.using("system").order_by("chain"))
    assert len(heads) == 3
    for head in heads:
        assert head.storage_name.startswith(f"audit-checkpoints/{head.chain}/")
        with storage.open(head.storage_name, "rb") as stored:
            assert stored.read() == head.checkpoint.encode()
        with storage.open(head.storage_name.removesuffix(".json") + ".sig", "rb") as stored:
            signature = stored.read()
        assert signature.hex() == head.signature
        assert len(signature) == 64
        assert checkpoint_verify(document=head.checkpoint.encode(), signature=signature)


def test_the_export_command_writes_what_openssl_verifies(recorded, tmp_path):
    call_command("export_audit_checkpoints", str(tmp_path / "out"), "--latest")
    out = tmp_path / "out"
    documents = sorted(out.glob("*.json"))
    assert len(documents) == 3
    assert {json.loads(path.read_text())["chain"] for path in documents} == {
        str(recorded["a"].pk),
        str(recorded["b"].pk),
        PLATFORM_CHAIN,
    }
    for path in documents:
        command = (
            f"openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in {path.name} -sigfile {path.stem}.sig"
        )
        verified = _openssl(command, out)
        assert verified.returncode == 0, verified.stderr


def test_who_reads_checkpoints(recorded, api_client_for, make_member, superuser):
    handler = make_member("handler", recorded["a"])
    assert api_client_for(handler).get("/api/v1/audit/checkpoints/").status_code == 403
    assert api_client_for(handler).get("/api/v1/audit/checkpoints/public-key/").status_code == 403
    bravo = AuditChainHead.objects.using("system").get(chain=str(recorded["b"].pk))
    auditor = api_client_for(recorded["auditor"])
    assert auditor.get(f"/api/v1/audit/checkpoints/{bravo.pk}/").status_code == 404
    assert auditor.get(f"/api/v1/audit/checkpoints/{bravo.pk}/document/").status_code == 404
    admin = api_client_for(superuser)
    chains = {item["chain"] for item in admin.get("/api/v1/audit/checkpoints/").json()["results"]}
    assert chains == {str(recorded["a"].pk), str(recorded["b"].pk), PLATFORM_CHAIN}
    narrowed = admin.get(f"/api/v1/audit/checkpoints/?tenant={recorded['b'].pk}").json()["results"]
    assert [item["chain"] for item in narrowed] == [str(recorded["b"].pk)]


def test_a_signature_by_another_key_does_not_verify(recorded):
    head = AuditChainHead.objects.using("system").filter(chain=str(recorded["a"].pk)).get()
    forged = Ed25519PrivateKey.generate().sign(head.checkpoint.encode())
    assert not checkpoint_verify(document=head.checkpoint.encode(), signature=forged)
    assert re.fullmatch(r"[0-9a-f]{128}", head.signature)


def test_an_evidence_package_carries_the_checkpoint_its_extract_ends_at(
    declare, manager, api_client_for, tmp_path
):
    """The package's audit extract runs on to the first signed checkpoint after the incident's rows and
    carries it: verify_package checks the signature and that the extract ends at that head; an auditor can
    check it with openssl from audit.json alone."""
    client = api_client_for(manager)
    incident = declare()
    audit_record_chain_heads()
    response = client.get(f"/api/v1/incidents/{incident['id']}/evidence-package/")
    assert response.status_code == 200
    package = tmp_path / "package.zip"
    package.write_bytes(b"".join(response.streaming_content))
    audit = json.loads(zipfile.ZipFile(package).read("audit.json"))
    checkpoint = audit["checkpoint"]
    document = json.loads(checkpoint["document"])
    assert (audit["entries"][-1]["seq"], audit["entries"][-1]["hash"]) == (document["seq"], document["hash"])
    assert package_check(package) == (None, 0)

    (tmp_path / "checkpoint.json").write_text(checkpoint["document"])
    (tmp_path / "checkpoint.sig").write_bytes(bytes.fromhex(checkpoint["signature"]))
    (tmp_path / "pub.pem").write_text(checkpoint["public_key"])
    assert _openssl(OFFLINE_CHECK, tmp_path).returncode == 0

    forged = {**checkpoint, "document": checkpoint["document"].replace('"seq":', '"seq":1', 1)}
    problem = audit_extract_checkpoint_check(forged, audit["entries"], chain=audit["chain"])
    assert problem == "checkpoint: the signature does not verify (the checkpoint was changed)"
    cut = audit["entries"][:-1]
    assert "does not end at the signed head" in audit_extract_checkpoint_check(
        checkpoint, cut, chain=audit["chain"]
    )


def _tamper(sql: str, params) -> None:
    """As someone with the tables' owner (bypassing the append-only triggers)."""
    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


WITH_OWNER = pytest.mark.django_db(transaction=True, databases=["default", "system", "owner"])


@WITH_OWNER
def test_verify_audit_checks_each_signed_checkpoint(recorded):
    chain = str(recorded["a"].pk)
    assert audit_chain_verify(chain=chain) is None
    _tamper(
        "UPDATE audit_auditchainhead SET checkpoint = replace(checkpoint, '\"seq\":', '\"seq\":9') "
        "WHERE chain = %s",
        [chain],
    )
    broken = audit_chain_verify(chain=chain)
    assert broken is not None
    assert "checkpoint's signature does not verify" in broken.reason


@WITH_OWNER
def test_a_chain_rewritten_with_the_chain_key_no_longer_reaches_its_signed_head(recorded):
    """Someone holding the database and the chain key (not the signing key) rewrites the last row, hash
    and mac recomputed: every link holds, but the signed head does not."""
    chain = str(recorded["a"].pk)
    row = AuditEntry.unscoped.using("owner").get(chain=chain, seq=1)
    row.target_repr = "rewritten"
    row.hash = row.compute_hash()
    row.mac = keys.chain_mac(row.hash)
    _tamper(
        "UPDATE audit_auditentry SET target_repr = %s, hash = %s, mac = %s WHERE id = %s",
        [row.target_repr, row.hash, row.mac, row.pk],
    )
    broken = audit_chain_verify(chain=chain)
    assert broken is not None
    assert broken.seq == 1
    assert "recorded head (chain rewritten)" in broken.reason
