"""Model names read right wherever the admin shows them: no "Audit entrys" or "Severity matrixs"."""

import re

import pytest
from django.apps import apps

# Endings whose plural is not the name with an "s" added (entry → entries, matrix → matrices).
_NOT_PLAIN_S = re.compile(r"([^aeiou]y|s|x|z|ch|sh)$")


def _vigil_models():
    return [model for model in apps.get_models() if model.__module__.startswith("apps.")]


@pytest.mark.parametrize("model", _vigil_models(), ids=lambda model: model._meta.label)
def test_every_model_has_a_real_plural(model):
    name, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)

    assert not (_NOT_PLAIN_S.search(name) and plural == f"{name}s"), f"{name!r} → {plural!r}"


def test_the_admin_index_names_the_audit_trail_right(superuser, verified_client_for):
    index = verified_client_for(superuser).get("/admin/").content.decode()

    assert "Audit entries" in index
    assert "entrys" not in index.lower()


def test_a_read_only_list_is_titled_by_its_records_and_names_its_columns(
    make_member, tenant, declare, verified_client_for
):
    auditor = make_member("auditor", tenant)
    declare()
    page = verified_client_for(auditor).get("/admin/audit/auditentry/").content.decode()
    assert "<h1>Audit entries</h1>" in page
    assert "to view" not in page
    assert "repr" not in page.lower()
