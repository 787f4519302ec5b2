import re
def test_probe(client, superuser, tenant, make_member):
    make_member("handler", tenant)
    client.force_login(superuser)
    r = client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    print(r.status_code)
    html = r.content.decode()
    print(sorted(set(re.findall(r'name="([^"]+)"', html))))
    r = client.get(f"/admin/tenancy/membership/add/")
    print(r.status_code, sorted(set(re.findall(r'name="([^"]+)"', r.content.decode()))))
