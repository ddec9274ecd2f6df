from django.urls import path, re_path

from chat.views import ChatCompletionsView, ChatSubscriptionView

urlpatterns = [
    path("chat/completions", ChatCompletionsView.as_view(), name="chat-completions"),
    re_path(
        r"^chat/subscriptions/(?P<subscription_id>[^/]{1,500})$",
        ChatSubscriptionView.as_view(),
        name="chat-subscription",
    ),
]
