# Times name their zone (the admin site shows each viewer's department's, apps/tenancy/admin_site.py):
# "4 Dec 2026, 14:05 CET". Every other format stays Django's English one.
DATETIME_FORMAT = "j M Y, H:i T"
