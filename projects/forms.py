"""The form that creates a personal access token, in the admin and on a user's own page."""

from django import forms
from django.utils import timezone

from projects.models import PersonalAccessToken, Scope


class PersonalAccessTokenForm(forms.ModelForm):
    """A token's name, scopes and expiry; PersonalAccessToken.create makes the token."""

    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.API, Scope.AI_FEATURES],
        help_text="Editor extensions need api, or ai_features for code suggestions and chat.",
    )

    class Meta:
        model = PersonalAccessToken
        fields = ["name", "scopes", "expires_at"]
        widgets = {"expires_at": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"expires_at": "The token stops working on this day; empty for never."}

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.localdate():
            raise forms.ValidationError("The expiry date must be in the future.")
        return expires_at

    def create_token(self, user) -> tuple[PersonalAccessToken, str]:
        """The new token and its plaintext, which is never available again."""
        return PersonalAccessToken.create(
            user=user,
            name=self.cleaned_data["name"],
            scopes=self.cleaned_data["scopes"],
            expires_at=self.cleaned_data["expires_at"],
        )


# A new token's plaintext waits in the server-side session between the POST that created it and
# the page after the redirect, which takes it out: shown once, and Back or reload never resends
# the form (nor shows the token again).
NEW_TOKEN_SESSION_KEY = "new_personal_access_token"  # noqa: S105 - a name, not a secret


def keep_new_token(request, token: PersonalAccessToken, plaintext: str) -> None:
    request.session[NEW_TOKEN_SESSION_KEY] = {"id": token.pk, "plaintext": plaintext}


def take_new_token(request) -> tuple[PersonalAccessToken, str] | None:
    """The token created just before this request's redirect and its plaintext, once."""
    kept = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if kept is None:
        return None
    token = PersonalAccessToken.objects.select_related("user").filter(pk=kept["id"]).first()
    return (token, kept["plaintext"]) if token else None
