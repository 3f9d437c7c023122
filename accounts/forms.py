"""Forms of the member and Owner pages."""

from django import forms


class McpAccessForm(forms.Form):
    """The team page's MCP Access switch for one member."""

    granted = forms.TypedChoiceField(
        choices=[("1", "On"), ("0", "Off")], coerce=lambda value: value == "1"
    )
    # Set by the confirmation step when revoking the last Owner's access.
    confirm = forms.BooleanField(required=False)
