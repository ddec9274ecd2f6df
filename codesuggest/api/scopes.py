"""The token scopes that open the API: a view's `required_scopes`, any one of which will do."""

# What the AI features take, as GitLab's code suggestions and chat endpoints do.
AI_SCOPES = ("ai_features", "api")
# Every scope a personal access token may carry here.
ANY_SCOPE = ("api", "read_api", "read_user", "ai_features")
