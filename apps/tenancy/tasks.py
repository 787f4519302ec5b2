"""The Celery base task: a task acting for a tenant runs inside that tenant's context, like a request."""

from celery import Task

from apps.core.origin import Origin, origin_as
from apps.tenancy.access import Access
from apps.tenancy.context import activate


class TenantTask(Task):
    """Tasks take ids, never objects; `tenant_id` is a required keyword, and the body runs inside
    `activate()` for exactly that tenant, with the audit origin "task"."""

    abstract = True

    def __call__(self, *args, tenant_id, **kwargs):
        with origin_as(Origin(channel="task")), activate(Access.system([tenant_id])):
            return super().__call__(*args, tenant_id=tenant_id, **kwargs)
