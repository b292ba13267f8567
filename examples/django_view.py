"""A one-file Django backend that authenticates Stack Auth users (sync API).

    STACK_PROJECT_ID=... STACK_SECRET_SERVER_KEY=... python examples/django_view.py runserver

In a real project, put the MIDDLEWARE entry and STACK_AUTH in settings.py and the views in views.py. Your frontend
sends the user's access token (``x-stack-access-token``, ``x-stack-auth`` or ``Authorization: Bearer``).
"""

from __future__ import annotations

import os
import sys

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from stack_auth.django import stack_login_required

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret"),
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["stack_auth.django.StackAuthMiddleware"],
        # The Stack app is made on first use; without STACK_AUTH it reads the STACK_* environment variables.
        STACK_AUTH=None,
    )
    django.setup()


@stack_login_required
def me(request: HttpRequest) -> JsonResponse:
    user = request.stack_user
    return JsonResponse({"id": user.id, "email": user.primary_email})


def hello(request: HttpRequest) -> JsonResponse:
    user = request.stack_user  # None without a valid token (the middleware checked it)
    return JsonResponse({"greeting": f"hello {user.display_name or user.id}" if user else "hello stranger"})


urlpatterns = [path("me", me), path("hello", hello)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
