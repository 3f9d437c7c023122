"""Django admin for accounts: MCP usage columns, the MCP feature switch, offboarding.

Customer Success Managers hold ``accounts.change_mcp_feature``; only they can
switch the MCP feature flag (per account or in bulk). Other staff see the flag
read-only. Every switch goes through ``account_mcp_feature_switch`` and lands in
the admin log with who and when.

It sits in the MCP layer because it reads the session logs and offboards through
``maestra_mcp.offboarding``, which ``accounts/`` may not import. Memberships keep
their admin in ``permissions.admin``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from guardian.admin import GuardedModelAdmin

from accounts.access import is_csm
from accounts.models import Account, Membership
from accounts.services import account_mcp_feature_switch
from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.models import VIEW_PERMISSION, McpSessionLog
from permissions.admin import MembershipInline, save_membership

MCP_FEATURE_PERMISSION = "accounts.change_mcp_feature"
OFFBOARD_PERMISSION = "accounts.offboard_account"


def _session_logs(since, *, aggregate=None, **filters) -> Coalesce | Subquery:
    """A correlated subquery over the account's session logs since ``since``.

    One subquery per column keeps the changelist at a constant number of
    queries however many accounts it shows. The admin is one of the places
    allowed to read logs unscoped; the subquery scopes them to the row's account.
    """
    rows = (
        McpSessionLog.objects.unscoped()
        .filter(account=OuterRef("pk"), created_at__gte=since, **filters)
        .exclude(status__in=NOT_REQUESTS)
        .order_by()
        .values("account")
    )
    if aggregate is not None:
        return Subquery(rows.annotate(value=aggregate).values("value"))
    counted = rows.annotate(value=Count("pk")).values("value")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _mcp_usage_annotations() -> dict:
    now = timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    return {
        "_mcp_requests_7d": _session_logs(week),
        "_mcp_requests_30d": _session_logs(month),
        "_mcp_failed_30d": _session_logs(month, status__in=FAILED_STATUSES),
        "_mcp_clients_30d": Coalesce(
            _session_logs(
                month,
                aggregate=Count("oauth_client_id", distinct=True),
                oauth_client_id__gt="",
            ),
            0,
        ),
        "_mcp_last_request": _session_logs(month, aggregate=Max("created_at")),
    }


# The 401 that starts every sign-in is how a connection begins, not a request an
# assistant made: counted nowhere, or a healthy account shows a high error rate.
NOT_REQUESTS = [McpSessionLog.Status.SIGN_IN]

# A request "failed" when the tool or protocol answered with an error, or the
# token, flag or permission refused it: both are what a CSM looks into.
FAILED_STATUSES = [McpSessionLog.Status.ERROR, McpSessionLog.Status.REFUSED]


@admin.register(Account)
class AccountAdmin(GuardedModelAdmin):
    list_display = [
        "system_name",
        "name",
        "mcp_enabled",
        "member_count",
        "mcp_requests_7d",
        "mcp_requests_30d",
        "mcp_error_rate",
        "mcp_clients_30d",
        "offboarded_at",
    ]
    list_filter = ["mcp_enabled", ("offboarded_at", admin.EmptyFieldListFilter)]
    search_fields = ["system_name", "name"]
    readonly_fields = [
        "offboarded_at",
        "session_logs_purged_at",
        "session_logs_purged_count",
        "created_at",
        "mcp_url",
        "mcp_usage",
    ]
    inlines = [MembershipInline]
    actions = ["enable_mcp", "disable_mcp", "offboard_accounts"]
    change_form_template = "admin/accounts/account/change_form.html"

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .annotate(_member_count=Count("memberships", filter=Q(memberships__is_active=True)))
            .annotate(**_mcp_usage_annotations())
        )

    @admin.display(description="Active members", ordering="_member_count")
    def member_count(self, account: Account) -> int:
        return account._member_count

    # --- MCP usage at a glance (from the session logs) ---------------------
    @admin.display(description="MCP requests 7 d", ordering="_mcp_requests_7d")
    def mcp_requests_7d(self, account: Account) -> int:
        return account._mcp_requests_7d

    @admin.display(description="MCP requests 30 d", ordering="_mcp_requests_30d")
    def mcp_requests_30d(self, account: Account) -> int:
        return account._mcp_requests_30d

    @admin.display(description="Error rate 30 d")
    def mcp_error_rate(self, account: Account) -> str | None:
        if not account._mcp_requests_30d:
            return None  # shown as the admin's empty value: no requests, no rate
        return f"{account._mcp_failed_30d / account._mcp_requests_30d:.1%}"

    @admin.display(description="Clients 30 d", ordering="_mcp_clients_30d")
    def mcp_clients_30d(self, account: Account) -> int:
        return account._mcp_clients_30d

    @admin.display(description="MCP usage")
    def mcp_usage(self, account: Account) -> str | None:
        if account.pk is None:
            return None
        last = account._mcp_last_request
        return format_html(
            "{} requests in the last 7 days, {} in the last 30 days; error rate {} "
            "({} failed); {} distinct assistant clients in 30 days; last request {}.",
            account._mcp_requests_7d,
            account._mcp_requests_30d,
            self.mcp_error_rate(account) or "n/a",
            account._mcp_failed_30d,
            account._mcp_clients_30d,
            f"{last:%Y-%m-%d %H:%M} UTC" if last else "none in 30 days",
        )

    @admin.display(description="MCP connector URL")
    def mcp_url(self, account: Account) -> str:
        return account.mcp_url

    def has_mcp_feature_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MCP_FEATURE_PERMISSION)

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("system_name")  # connector URLs already handed out embed it
        if not self.has_mcp_feature_permission(request):
            fields.append("mcp_enabled")
        return fields

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for membership in memberships:
            changed = next(f.changed_data for f in formset.forms if f.instance is membership)
            save_membership(membership, changed)
        formset.save_m2m()

    # --- MCP feature switching (CSM only) ---------------------------------
    def _switch(self, request: HttpRequest, accounts, enabled: bool) -> int:
        switched = 0
        for account in accounts:
            switched += account_mcp_feature_switch(
                account=account, enabled=enabled, acting_user=request.user
            )
        return switched

    @admin.action(description="Enable MCP for selected accounts", permissions=["mcp_feature"])
    def enable_mcp(self, request: HttpRequest, queryset) -> None:
        count = self._switch(request, queryset, True)
        self.message_user(request, f"MCP enabled for {count} account(s).", messages.SUCCESS)

    @admin.action(description="Disable MCP for selected accounts", permissions=["mcp_feature"])
    def disable_mcp(self, request: HttpRequest, queryset) -> None:
        count = self._switch(request, queryset, False)
        self.message_user(request, f"MCP disabled for {count} account(s).", messages.SUCCESS)

    # --- Offboarding (CSM only) -------------------------------------------
    def has_offboard_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(OFFBOARD_PERMISSION)

    @admin.action(description="Offboard selected accounts", permissions=["offboard"])
    def offboard_accounts(self, request: HttpRequest, queryset):
        """Ask for confirmation first (like "delete selected"); then call the service."""
        if request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/accounts/account/offboard_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Offboard accounts?",
                    "opts": self.model._meta,
                    "accounts": queryset,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        offboarded = sum(
            account_offboard(account=account, acting_user=request.user) for account in queryset
        )
        self.message_user(
            request,
            f"Offboarded {offboarded} account(s); their session logs are being purged.",
            messages.SUCCESS,
        )
        return None

    def get_urls(self):
        return [
            path(
                "<int:account_id>/mcp-feature/",
                self.admin_site.admin_view(self.mcp_feature_view),
                name="accounts_account_mcp_feature",
            ),
            *super().get_urls(),
        ]

    def mcp_feature_view(self, request: HttpRequest, account_id: int):
        """POST ``enabled=1|0``: the one-click switch on the change page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_mcp_feature_permission(request):
            raise PermissionDenied
        account = get_object_or_404(Account, pk=account_id)
        enabled = request.POST.get("enabled") == "1"
        if self._switch(request, [account], enabled):
            state = "enabled" if enabled else "disabled"
            self.message_user(request, f"MCP {state} for {account.system_name}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[account.pk]))

    def account_page_links(self, request: HttpRequest, account: Account) -> list[tuple[str, str]]:
        """The account's own pages this user may open: each link's rule is its page's."""
        if account.offboarded_at is not None or not is_csm(request.user):
            return []  # offboarded accounts have no pages; other staff get 404 there
        name = account.system_name
        links = [
            ("MCP page", reverse("accounts:mcp_settings", args=[name])),
            ("Team access", reverse("accounts:team", args=[name])),
            ("Connected assistants", reverse("oauth:account_connections", args=[name])),
        ]
        if request.user.has_perm(VIEW_PERMISSION):
            links.append(("Session logs", reverse("session_logs:account_logs", args=[name])))
        return links

    def session_log_admin_link(self, request: HttpRequest, account: Account) -> str | None:
        """The support view of the account's logs, for staff holding the log permission only."""
        if not request.user.has_perm(VIEW_PERMISSION):
            return None
        try:
            url = reverse("admin:maestra_mcp_mcpsessionlog_changelist")
        except NoReverseMatch:  # the session-log admin is not registered
            return None
        return f"{url}?account__id__exact={account.pk}"

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_switch_mcp"] = self.has_mcp_feature_permission(request)
        context["account_page_links"] = (
            self.account_page_links(request, obj) if obj is not None else []
        )
        context["session_log_admin_link"] = (
            self.session_log_admin_link(request, obj) if obj is not None else None
        )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
