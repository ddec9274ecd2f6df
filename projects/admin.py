from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from projects.models import (
    Group,
    InstanceSettings,
    Membership,
    PersonalAccessToken,
    Project,
    Scope,
    User,
    code_suggestions_decision,
)


def setting_action(name: str, description: str, **values: Any) -> Callable[..., None]:
    """An admin action that sets fields on each selected row, saved one by one.

    Saved one by one, not with QuerySet.update(), so that save() keeps derived fields right, the
    cached copies of the rows are dropped, and the admin log records each change.
    """

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            for field, value in values.items():
                setattr(obj, field, value)
            obj.save()
            modeladmin.log_change(request, obj, [{"changed": {"fields": list(values)}}])
        modeladmin.message_user(request, f"Updated {len(queryset)} item(s).", messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description)(action)


enable_code_suggestions = setting_action(
    "enable_code_suggestions", "Turn code suggestions on", code_suggestions=True
)
disable_code_suggestions = setting_action(
    "disable_code_suggestions", "Turn code suggestions off", code_suggestions=False
)
lock_code_suggestions = setting_action(
    "lock_code_suggestions",
    "Lock the setting for subgroups and projects",
    lock_code_suggestions=True,
)
unlock_code_suggestions = setting_action(
    "unlock_code_suggestions", "Unlock the setting", lock_code_suggestions=False
)
block_users = setting_action("block_users", "Block (cannot sign in or use tokens)", is_active=False)
unblock_users = setting_action("unblock_users", "Unblock", is_active=True)
withdraw_code_suggestions = setting_action(
    "withdraw_code_suggestions",
    "Withdraw access to code suggestions",
    code_suggestions_access=False,
)
withdraw_chat = setting_action("withdraw_chat", "Withdraw access to chat", chat_access=False)
revoke_tokens = setting_action("revoke_tokens", "Revoke", revoked=True)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["full_path", "name", "code_suggestions", "lock_code_suggestions"]
    list_editable = ["code_suggestions", "lock_code_suggestions"]
    list_filter = ["code_suggestions", "lock_code_suggestions"]
    search_fields = ["full_path", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["full_path"]
    actions = [
        enable_code_suggestions,
        disable_code_suggestions,
        lock_code_suggestions,
        unlock_code_suggestions,
    ]
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "full_path",
        "visibility",
        "code_suggestions",
        "effective_code_suggestions",
        "decided_by",
    ]
    list_editable = ["code_suggestions"]
    list_filter = ["visibility", "code_suggestions"]
    search_fields = ["full_path", "name"]
    autocomplete_fields = ["group"]
    readonly_fields = ["full_path", "effective_code_suggestions", "decided_by"]
    actions = [enable_code_suggestions, disable_code_suggestions]
    inlines = [MembershipInline]

    @admin.display(boolean=True, description="Effective")
    def effective_code_suggestions(self, project: Project) -> bool | None:
        return code_suggestions_decision(project).enabled if project.pk else None

    @admin.display(description="Decided by")
    def decided_by(self, project: Project) -> str:
        return code_suggestions_decision(project).reason if project.pk else "-"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "is_superuser",
        "is_active",
        "code_suggestions_access",
        "chat_access",
    ]
    list_editable = ["is_active", "code_suggestions_access", "chat_access"]
    list_filter = ["is_active", "is_superuser", "code_suggestions_access", "chat_access"]
    actions = [block_users, unblock_users, withdraw_code_suggestions, withdraw_chat]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        ("AI features", {"fields": ("code_suggestions_access", "chat_access")}),
    )


class PersonalAccessTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = PersonalAccessToken
        fields = ["user", "name", "scopes", "expires_at"]


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    form = PersonalAccessTokenForm
    list_display = ["name", "user", "scopes", "created_at", "expires_at", "revoked", "last_used_at"]
    list_filter = ["revoked"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]
    actions = [revoke_tokens]

    def get_fields(
        self, request: HttpRequest, obj: PersonalAccessToken | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name", "scopes", "expires_at")
        return ("user", "name", "scopes", "expires_at", "revoked", "created_at", "last_used_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: PersonalAccessToken | None = None
    ) -> list[str]:
        # A token's identity cannot change after it is handed out; it can only be revoked.
        if obj is None:
            return []
        return ["user", "name", "scopes", "expires_at", "created_at", "last_used_at"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"scopes": [Scope.AI_FEATURES, Scope.API]}

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, plaintext = PersonalAccessToken.create(
            user=obj.user, name=obj.name, scopes=obj.scopes, expires_at=obj.expires_at
        )
        obj.pk = token.pk
        obj._plaintext = plaintext

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        # The plaintext is shown on this one page and nowhere else: not in a message (those
        # may sit in a cookie), not in the database.
        return TemplateResponse(
            request,
            "admin/projects/personalaccesstoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "token": obj,
                "plaintext": obj._plaintext,
                "title": "Personal access token created",
            },
        )


@admin.register(InstanceSettings)
class InstanceSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "code_suggestions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not InstanceSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        InstanceSettings.load()
        return super().get_queryset(request)
