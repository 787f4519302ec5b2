from django.db import migrations

from apps.core.db import same_tenant_or_shipped, tenant_fixed


class Migration(migrations.Migration):
    """Issue 8 for reference data, whose shipped rows have no tenant (so no composite foreign key): a
    category's parent is shipped or of the category's own tenant; a step's tenant is its regime's (both NULL
    for shipped regimes). The tenant of a category, regime or step never changes once written, so what the
    constraint triggers here and in response, assessment and notifications checked stays true."""

    dependencies = [("catalog", "0004_shipped_regimes")]

    operations = [
        same_tenant_or_shipped(
            "catalog_category", "parent_id", "catalog_category", "catalog_category_parent_same_tenant"
        ),
        same_tenant_or_shipped(
            "catalog_regimestep",
            "regime_id",
            "catalog_regime",
            "catalog_regimestep_regime_same_tenant",
            mode="same",
        ),
        tenant_fixed("catalog_category"),
        tenant_fixed("catalog_regime"),
        tenant_fixed("catalog_regimestep"),
    ]
