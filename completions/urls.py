from django.urls import path

from completions import views

urlpatterns = [
    path("code_suggestions/completions", views.CompletionsView.as_view()),
    path("code_suggestions/direct_access", views.DirectAccessView.as_view()),
]
