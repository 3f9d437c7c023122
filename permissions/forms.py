"""The team page's forms: a member's MCP Access and brand restriction."""

from django import forms

from accounts.models import Account
from reporting.models import Brand


class McpAccessForm(forms.Form):
    """The team page's MCP Access switch for one member."""

    granted = forms.TypedChoiceField(
        choices=[("1", "On"), ("0", "Off")], coerce=lambda value: value == "1"
    )
    # Set by the confirmation step when revoking the last Owner's access.
    confirm = forms.BooleanField(required=False)


class BrandRestrictionForm(forms.Form):
    """The brands one member is limited to; none selected = every brand."""

    # Set per account in __init__: the scoped manager refuses an unscoped queryset.
    brands = forms.ModelMultipleChoiceField(queryset=None, required=False)

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this account's brands are valid choices: another account's id is refused.
        self.fields["brands"].queryset = Brand.objects.for_account(account)
