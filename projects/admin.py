from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as PermissionGroup
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from projects.forms import PersonalAccessTokenForm, keep_new_token, take_new_token
from projects.git import MASK, mask_credentials
from projects.indexing import run_was_lost
from projects.models import (
    Group,
    IndexState,
    InstanceSettings,
    Membership,
    PersonalAccessToken,
    Project,
    ProjectIndex,
    User,
    code_suggestions_decision,
)
from projects.tasks import index_project

admin.site.site_header = "codesuggest"
admin.site.site_title = "codesuggest"
admin.site.index_title = "Administration"
# Who may do what is decided by groups and memberships here, and by being an administrator
# (is_superuser), never by Django's permission groups: two entries called "Groups" confused.
admin.site.unregister(PermissionGroup)


def setting_action(name: str, description: str, **values: Any) -> Callable[..., None]:
    """An admin action that sets fields on each selected row, saved one by one.

    Saved one by one, not with QuerySet.update(), so that save() keeps derived fields right, the
    cached copies of the rows are dropped, and the admin log records each change; through
    save_model, as the change form saves, so that what it warns of is said here too.
    """

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            for field, value in values.items():
                setattr(obj, field, value)
            modeladmin.save_model(request, obj, None, True)
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


class MaskedUrlInput(forms.TextInput):
    """Shows a URL with its credentials masked, the stored one and one just typed alike: a
    page sent back with an error elsewhere showed the token typed in full."""

    def format_value(self, value: Any) -> str | None:
        return super().format_value(mask_credentials(value) if value else value)


class CodeIndexForm(forms.ModelForm):
    """The Git source, its URL shown with any credentials masked: sent back unchanged, the
    stored URL stays as it is."""

    class Meta:
        model = ProjectIndex
        fields = ["git_url", "git_branch"]
        widgets = {"git_url": MaskedUrlInput(attrs={"class": "vTextField"})}

    def clean_git_url(self) -> str:
        url = self.cleaned_data["git_url"]
        if url == mask_credentials(self.instance.git_url):
            return self.instance.git_url
        if f"{MASK}@" in url:
            raise forms.ValidationError(
                "Type the URL's credentials again, or leave the URL as it was."
            )
        return url


class CodeIndexInline(admin.StackedInline):
    model = ProjectIndex
    form = CodeIndexForm
    can_delete = False
    max_num = 1
    readonly_fields = [
        "progress",
        "files",
        "chunks",
        "last_run",
        "commit",
        "started_at",
        "indexed_at",
        "error",
    ]

    @admin.display(description="State")
    def progress(self, index: ProjectIndex) -> str:
        return index_progress(index)

    @admin.display(description="Last run")
    def last_run(self, index: ProjectIndex) -> str:
        return (
            f"{index.files_read} files read, {index.files - index.files_read} unchanged, "
            f"{index.files_skipped} skipped, {index.files_removed} removed"
        )


def index_progress(index: ProjectIndex | None) -> str:
    """The index's state in words, with the files looked at while it reads them."""
    if index is None or not index.state:
        return IndexState.NEVER.label
    state = IndexState(index.state).label
    if run_was_lost(index):
        lost = f"Interrupted ({state.lower()}): the process running it stopped."
        if index.git_url:
            return f"{lost} It runs again when the broker hands the task out again, or on schedule."
        return lost
    if index.state == IndexState.READING and index.files_total:
        return f"{state}: {index.files_done}/{index.files_total}"
    return state


@admin.action(description="Re-index now (from the Git source)")
def reindex_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    without_source = []
    queued = 0
    for project in queryset.select_related("code_index"):
        index = getattr(project, "code_index", None)
        if index is None or not index.git_url:
            without_source.append(project.full_path)
            continue
        index_project.delay_on_commit(project.pk)
        queued += 1
    if queued:
        modeladmin.message_user(request, f"Re-indexing {queued} project(s).", messages.SUCCESS)
    if without_source:
        modeladmin.message_user(
            request,
            f"No Git source to index for {', '.join(without_source)}: set one on the project's "
            "page, or run manage.py index_repository on a checkout.",
            messages.WARNING,
        )


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
        "index_state",
        "indexed_files",
        "indexed_chunks",
        "last_indexed",
    ]
    list_editable = ["code_suggestions"]
    list_filter = ["visibility", "code_suggestions"]
    search_fields = ["full_path", "name"]
    autocomplete_fields = ["group"]
    readonly_fields = ["full_path", "effective_code_suggestions", "decided_by"]
    actions = [enable_code_suggestions, disable_code_suggestions, reindex_now]
    inlines = [CodeIndexInline, MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("code_index")

    @admin.display(description="Index")
    def index_state(self, project: Project) -> str:
        index = getattr(project, "code_index", None)
        if index is not None and index.state == IndexState.FAILED:
            return f"{IndexState.FAILED.label}: {index.error}"
        return index_progress(index)

    @admin.display(description="Files")
    def indexed_files(self, project: Project) -> int | None:
        index = getattr(project, "code_index", None)
        return index.files if index else None

    @admin.display(description="Chunks")
    def indexed_chunks(self, project: Project) -> int | None:
        index = getattr(project, "code_index", None)
        return index.chunks if index else None

    @admin.display(description="Last indexed")
    def last_indexed(self, project: Project) -> object:
        index = getattr(project, "code_index", None)
        return index.indexed_at if index else None

    @admin.display(boolean=True, description="Effective")
    def effective_code_suggestions(self, project: Project) -> bool | None:
        return code_suggestions_decision(project).enabled if project.pk else None

    @admin.display(description="Decided by")
    def decided_by(self, project: Project) -> str:
        return code_suggestions_decision(project).reason if project.pk else "-"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The rule is GitLab's, and surprising: switching a project off changes nothing while a
        # group above it is on (or a group locks the setting). Say so where it happens.
        decision = code_suggestions_decision(obj)
        if decision.enabled != obj.code_suggestions:
            state = "on" if decision.enabled else "off"
            self.message_user(
                request,
                f"Code suggestions stay {state} for {obj.full_path} ({decision.reason}), "
                "whatever the project's own setting.",
                messages.WARNING,
            )


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
    # Django's permission pickers are left out: administrators (is_superuser) do everything
    # here, and nothing else reads permissions.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("AI features", {"fields": ("code_suggestions_access", "chat_access")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )


class PersonalAccessTokenAdminForm(PersonalAccessTokenForm):
    class Meta(PersonalAccessTokenForm.Meta):
        fields = ["user", *PersonalAccessTokenForm.Meta.fields]


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    form = PersonalAccessTokenAdminForm
    list_display = [
        "name",
        "user",
        "scope_list",
        "created_at",
        "expires_at",
        "status",
        "last_used_at",
    ]
    list_filter = ["revoked"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]
    actions = [revoke_tokens]

    @admin.display(description="Scopes")
    def scope_list(self, token: PersonalAccessToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(description="Status")
    def status(self, token: PersonalAccessToken) -> str:
        return token.status

    def get_fields(
        self, request: HttpRequest, obj: PersonalAccessToken | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name", "scopes", "expires_at")
        return ("user", "name", "scope_list", "expires_at", "revoked", "created_at", "last_used_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: PersonalAccessToken | None = None
    ) -> list[str]:
        # A token's identity cannot change after it is handed out; it can only be revoked.
        if obj is None:
            return []
        return ["user", "name", "scope_list", "expires_at", "created_at", "last_used_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            # Only `revoked` is left to change: a plain form, without the creation form's fields.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, plaintext = form.create_token(form.cleaned_data["user"])
        obj.pk = token.pk
        keep_new_token(request, token, plaintext)

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:projects_personalaccesstoken_created"))

    def get_urls(self) -> list[URLPattern]:
        created = path(
            "created/",
            self.admin_site.admin_view(self.created_view),
            name="projects_personalaccesstoken_created",
        )
        return [created, *super().get_urls()]

    def created_view(self, request: HttpRequest) -> HttpResponse:
        """The new token's plaintext, on this one page once (admin_view forbids caching it)."""
        new = take_new_token(request)
        token, plaintext = new if new else (None, None)
        return TemplateResponse(
            request,
            "admin/projects/personalaccesstoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "token": token,
                "plaintext": plaintext,
                "title": "Personal access token created" if token else "Personal access token",
            },
        )


@admin.register(InstanceSettings)
class InstanceSettingsAdmin(admin.ModelAdmin):
    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One row: a list of it is a detour.
        return redirect("admin:projects_instancesettings_change", InstanceSettings.load().pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The one row is made when first read (InstanceSettings.load): nothing to add.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        InstanceSettings.load()
        return super().get_queryset(request)
