from django.urls import path

from completions import views

urlpatterns = [
    path("code_suggestions/completions", views.CompletionsView.as_view()),
    path("code_suggestions/direct_access", views.DirectAccessView.as_view()),
    # Direct access's `base_url` is `…/code_suggestions`; the language server adds the rest.
    path("code_suggestions/v2/completions", views.GatewayCompletionsView.as_view()),
    path("usage_data/track_event", views.TrackEventView.as_view()),
    path("usage_data/track_events", views.TrackEventsView.as_view()),
]
