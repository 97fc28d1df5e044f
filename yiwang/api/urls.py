from __future__ import annotations

from django.urls import URLPattern, path, re_path

from yiwang.api.errors import api_not_found, problem_on_method_not_allowed
from yiwang.api.main import api

# (Not named app_name/namespace: include() would read a module-level app_name.)
_ninja_patterns, _ninja_app, _ninja_namespace = api.urls
for _pattern in _ninja_patterns:
    if isinstance(_pattern, URLPattern):
        _pattern.callback = problem_on_method_not_allowed(_pattern.callback)

# Django tries the patterns in order: the progress query sat behind forty others, the exchange
# gateway behind eighty (a tenth of the progress query's time). The operations that monitors,
# citizens' pages and departments' systems call all the time are tried first. Their paths are
# literal, so no other pattern can match them: moving them changes no answer.
HOT_OPERATIONS = ("health", "progress_query", "exchange_query_api", "hotline_order_create")
_ninja_patterns.sort(key=lambda p: not isinstance(p, URLPattern) or p.name not in HOT_OPERATIONS)

urlpatterns = [
    # /api/ itself: ninja's root view raises Http404 (a portal HTML page); answer in JSON.
    path("", api_not_found, name="api-index"),
    path("", (_ninja_patterns, _ninja_app, _ninja_namespace)),
    # Any other /api/ path that no operation matches.
    re_path(r"^.*$", api_not_found, name="api-not-found"),
]
