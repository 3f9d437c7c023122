"""Pages for account members."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import memberships_of_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After login: the accounts the member belongs to."""
    return render(
        request, "accounts/home.html", {"memberships": memberships_of_user(user=request.user)}
    )
