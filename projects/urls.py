from django.urls import path

from projects import views

urlpatterns = [
    path("code_suggestions/tokens", views.CodeSuggestionsTokenView.as_view()),
    path("code_suggestions/enabled", views.CodeSuggestionsEnabledView.as_view()),
    path("user", views.CurrentUserView.as_view()),
    path("version", views.VersionView.as_view()),
    path("metadata", views.VersionView.as_view()),
    path("personal_access_tokens/self", views.PersonalAccessTokenSelfView.as_view()),
    path("projects/<path:project>/security_scans/sast/scan", views.SastScanView.as_view()),
]
