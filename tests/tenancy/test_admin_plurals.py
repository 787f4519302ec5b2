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
