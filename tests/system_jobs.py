"""The mark of a test that runs a cross-tenant system job (reminder scanners, evidence integrity sweep).

Those jobs find their work on the separate `system` connection (apps.tenancy.context.SYSTEM_DATABASE), which
sees only committed rows, as in production: such tests commit for real (transactional) instead of running
inside the usual rolled-back test transaction."""

import pytest

system_job = pytest.mark.django_db(transaction=True, databases=["default", "system"])
