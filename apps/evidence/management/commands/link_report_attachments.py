from django.core.management.base import BaseCommand
from django.db import transaction

from apps.evidence.models import Evidence
from apps.evidence.services import report_evidence_join_incident
from apps.tenancy.access import Access
from apps.tenancy.context import activate
from apps.tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Attachments of reports that became incidents before attachments followed their report: join each "
        "to its report's incident (a `linked` custody entry and an audit event each, as an assessment "
        "records them now). Safe to run again: an item already in an incident is left where it is."
    )

    def handle(self, *args, **options):
        linked = 0
        for tenant_id in Tenant.objects.values_list("pk", flat=True):
            with activate(Access.system([tenant_id])):
                linked += _link_tenant(tenant_id)
        self.stdout.write(f"{linked} attachment(s) joined their report's incident")


def _link_tenant(tenant_id) -> int:
    waiting = Evidence.objects.filter(
        tenant_id=tenant_id, incident__isnull=True, report__incident__isnull=False
    ).select_related("report__incident")
    linked = 0
    for report in {item.report for item in waiting}:
        with transaction.atomic():
            linked += len(
                report_evidence_join_incident(
                    actor=None,
                    report=report,
                    incident=report.incident,
                    reason={"decision": "backfill", "command": "link_report_attachments"},
                )
            )
    return linked
