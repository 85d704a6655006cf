"""Django's admin app, serving mesoclinic.admin_site.AdminSite (django-otp's) as `admin.site`.

Its own module (not mesoclinic/apps.py) so that the project's app config stays the only one found
there when Django picks a default; the site class is named by string because it cannot be imported
before the app registry is ready.
"""

from django.contrib.admin.apps import AdminConfig


class OTPAdminConfig(AdminConfig):
    default_site = "mesoclinic.admin_site.AdminSite"
