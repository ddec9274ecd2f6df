"""A user's own pages, staff or not: signing in and out, and their personal access tokens at
GitLab's path for them."""

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from codesuggest.api.throttling import login_throttled
from projects.forms import PersonalAccessTokenForm, keep_new_token, take_new_token
from projects.models import PersonalAccessToken, User

# Throttled as the admin's sign-in is: the same limits, counted together.
sign_in = login_throttled(
    cast(
        Callable[..., HttpResponse],
        auth_views.LoginView.as_view(
            template_name="users/sign_in.html",
            redirect_authenticated_user=True,
            next_page="personal_access_tokens",
        ),
    )
)
sign_out = auth_views.LogoutView.as_view(next_page="home")


@never_cache
@login_required(login_url="sign_in")
def personal_access_tokens(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # signed in: login_required
    if request.method == "POST":
        form = PersonalAccessTokenForm(request.POST)
        if form.is_valid():
            token, plaintext = form.create_token(user)
            keep_new_token(request, token, plaintext)
            # Redirected, so that Back or reload never posts the form again.
            return redirect("personal_access_tokens")
    else:
        form = PersonalAccessTokenForm()
    new = take_new_token(request)
    tokens = PersonalAccessToken.objects.filter(user=user).order_by("revoked", "-created_at")
    return render(
        request,
        "user_settings/personal_access_tokens.html",
        {
            "form": form,
            "tokens": tokens,
            "new_token": new[0] if new and new[0].user == user else None,
            "new_plaintext": new[1] if new else None,
        },
    )


@require_POST
@login_required(login_url="sign_in")
def revoke_personal_access_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = cast(User, request.user)  # signed in: login_required
    # Someone else's token is as absent as a token that does not exist.
    token = get_object_or_404(PersonalAccessToken, pk=token_id, user=user)
    if not token.revoked:
        token.revoked = True
        token.save(update_fields=["revoked"])
        messages.success(request, f"The token {token.name} was revoked.")
    return redirect("personal_access_tokens")
