from django import forms


class SigninUnlockForm(forms.Form):
    """Which lock to lift: a username from an address, or (no username) the whole address."""

    username = forms.CharField(max_length=150, required=False)
    ip_address = forms.GenericIPAddressField()
