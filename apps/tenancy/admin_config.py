from django.contrib.admin.apps import AdminConfig


class VigilAdminConfig(AdminConfig):
    """Replaces django.contrib.admin's default site with the tenant-scoped one."""

    default_site = "apps.tenancy.admin_site.VigilAdminSite"
