"""The admin site: django-otp's, so a staff user needs a verified second factor there too."""

from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    """django-otp's site under the usual `admin` namespace (its own default is `otpadmin`)."""

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
