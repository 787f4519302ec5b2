def _refs(client, query):
    return sorted(row["title"] for row in client.get(f"/api/v1/incidents/?{query}").json()["results"])


def test_filters_and_full_text_search(declare, api_client_for, handler):
    declare(title="Phishing wave against payroll", impact="low", urgency="low", description="fake invoices")
    declare(title="Ransomware on the file server", impact="critical", urgency="critical")
    h = api_client_for(handler)
    assert _refs(h, "severity=P1") == ["Ransomware on the file server"]
    assert _refs(h, "severity=P1&severity=P4") == [
        "Phishing wave against payroll",
        "Ransomware on the file server",
    ]
    assert _refs(h, "q=invoice") == ["Phishing wave against payroll"]  # stemmed, from the description
    assert _refs(h, "q=ransomware server") == ["Ransomware on the file server"]
    assert _refs(h, 'q="file server" -ransomware') == []
    assert _refs(h, "status=closed") == []
    bad = h.get("/api/v1/incidents/?status=finished")
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_search_follows_edits(declare, api_client_for, manager):
    incident = declare(title="Odd login")
    m = api_client_for(manager)
    m.patch(f"/api/v1/incidents/{incident['id']}/", {"title": "Credential stuffing"}, format="json")
    assert _refs(m, "q=credential") == ["Credential stuffing"]
    assert _refs(m, "q=odd") == []


def test_tenant_filter_narrows_and_rejects_foreign_tenants(
    declare, api_client_for, make_member, tenant, other_tenant
):
    declare(title="Ours")
    executive = make_member("executive", tenant)
    client = api_client_for(executive)
    assert _refs(client, f"tenant={tenant.id}") == ["Ours"]
    foreign = client.get(f"/api/v1/incidents/?tenant={other_tenant.id}")
    assert foreign.status_code == 400
    assert foreign.json() == {"tenant": ["Unknown tenant."]}
