from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "apps.response"
    label = "response"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.response.subscribers import revoke_grants_of_former_member
        from apps.response.timeline import record_automatic_entry

        subscribe("membership.deleted")(revoke_grants_of_former_member)
        subscribe("*")(record_automatic_entry)
