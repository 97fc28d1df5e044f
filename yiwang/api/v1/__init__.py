"""Version 1 of the REST API: one router per concern, mounted by yiwang.api.main."""
