"""The Stack known errors the emulator raises, with Stack's exact messages and details.

Messages and details follow ``packages/stack-shared/src/known-errors.tsx`` of the Stack source; statuses come from
the generated table (:mod:`stack_auth._known_errors`) through :class:`~stack_auth.testing.wire.KnownError`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from stack_auth.testing.wire import KnownError

_DOCS_AUTH = "For more information, see the docs on REST API authentication: https://docs.stack-auth.com/rest-api/overview#authentication"


def _q(value: str) -> str:
    """``JSON.stringify`` of a string."""
    return json.dumps(value, ensure_ascii=False)


def _iso(millis: int) -> str:
    """``Date.prototype.toISOString``."""
    dt = datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


# --- request / schema ----------------------------------------------------------------------------------------------


def schema_error(method: str, path: str, messages: list[str]) -> KnownError:
    """``SCHEMA_ERROR`` listing yup-style messages (continuation lines indented like Stack's ``deindent``)."""
    text = f"Request validation failed on {method} {path}:" + "".join(
        "\n  - " + m.replace("\n", "\n  ") for m in messages
    )
    return KnownError("SCHEMA_ERROR", text, {"message": text})


def body_parsing_error(message: str) -> KnownError:
    return KnownError("BODY_PARSING_ERROR", message)


# --- project authentication ----------------------------------------------------------------------------------------


def project_key_without_access_type() -> KnownError:
    return KnownError(
        "PROJECT_KEY_WITHOUT_ACCESS_TYPE",
        "Either an API key or an admin access token was provided, but the x-stack-access-type header is missing. "
        "Set it to 'client', 'server', or 'admin' as appropriate.",
    )


def invalid_access_type(access_type: str) -> KnownError:
    return KnownError(
        "INVALID_ACCESS_TYPE",
        f"The x-stack-access-type header must be 'client', 'server', or 'admin', but was '{access_type}'.",
    )


def access_type_without_project_id(access_type: str) -> KnownError:
    return KnownError(
        "ACCESS_TYPE_WITHOUT_PROJECT_ID",
        f"The x-stack-access-type header was '{access_type}', but the x-stack-project-id header was not provided."
        f"\n\n{_DOCS_AUTH}",
        {"request_type": access_type},
    )


def access_type_required() -> KnownError:
    return KnownError(
        "ACCESS_TYPE_REQUIRED",
        "You must specify an access level for this Stack project. Make sure project API keys are provided "
        "(eg. x-stack-publishable-client-key) and you set the x-stack-access-type header to 'client', 'server', "
        f"or 'admin'.\n\n{_DOCS_AUTH}",
    )


def insufficient_access_type(actual: str, allowed: list[str]) -> KnownError:
    allowed_text = " or ".join(f"'{a}'" for a in allowed)
    return KnownError(
        "INSUFFICIENT_ACCESS_TYPE",
        f"The x-stack-access-type header must be {allowed_text}, but was '{actual}'.",
        {"actual_access_type": actual, "allowed_access_types": allowed},
    )


def invalid_publishable_client_key(project_id: str) -> KnownError:
    return KnownError(
        "INVALID_PUBLISHABLE_CLIENT_KEY",
        f"The publishable key is not valid for the project {_q(project_id)}. Does the project and/or the key exist?",
        {"project_id": project_id},
    )


def invalid_secret_server_key(project_id: str) -> KnownError:
    return KnownError(
        "INVALID_SECRET_SERVER_KEY",
        f"The secret server key is not valid for the project {_q(project_id)}. Does the project and/or the key exist?",
        {"project_id": project_id},
    )


def invalid_super_secret_admin_key(project_id: str) -> KnownError:
    return KnownError(
        "INVALID_SUPER_SECRET_ADMIN_KEY",
        f"The super secret admin key is not valid for the project {_q(project_id)}. "
        "Does the project and/or the key exist?",
        {"project_id": project_id},
    )


def unparsable_admin_access_token() -> KnownError:
    return KnownError("UNPARSABLE_ADMIN_ACCESS_TOKEN", "Admin access token is not parsable.")


def publishable_client_key_required_for_project(project_id: str) -> KnownError:
    return KnownError(
        "PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT",
        "Publishable client keys are required for this project. Create one in Project Keys, or disable this "
        "requirement there to allow keyless client access.",
        {"project_id": project_id},
    )


def server_authentication_required() -> KnownError:
    return KnownError("SERVER_AUTHENTICATION_REQUIRED", "The secret server key must be provided.")


def admin_authentication_required() -> KnownError:
    return KnownError("ADMIN_AUTHENTICATION_REQUIRED", "The super secret admin key must be provided.")


def current_project_not_found(project_id: str) -> KnownError:
    return KnownError(
        "CURRENT_PROJECT_NOT_FOUND",
        f"The current project with ID {project_id} was not found. "
        "Please check the value of the x-stack-project-id header.",
        {"project_id": project_id},
    )


# --- session authentication ----------------------------------------------------------------------------------------


def unparsable_access_token() -> KnownError:
    return KnownError("UNPARSABLE_ACCESS_TOKEN", "Access token is not parsable.")


def access_token_expired(
    expired_at_millis: int | None,
    project_id: str | None = None,
    user_id: str | None = None,
    refresh_token_id: str | None = None,
) -> KnownError:
    text = "Access token has expired. Please refresh it and try again."
    if expired_at_millis:
        text += f" (The access token expired at {_iso(expired_at_millis)}.)"
    if project_id:
        text += f" Project ID: {project_id}."
    if user_id:
        text += f" User ID: {user_id}."
    if refresh_token_id:
        text += f" Refresh token ID: {refresh_token_id}."
    text += (
        "\n\nDebug info: Most likely, you fetched the access token before it expired (for example, in a server "
        "component, pre-rendered page, or on page load), but then didn't refresh it before it expired. If this is "
        "the case, and you're using the SDK, make sure you call getAccessToken() every time you need to use the "
        "access token. If you're not using the SDK, make sure you refresh the access token with the refresh endpoint."
    )
    return KnownError(
        "ACCESS_TOKEN_EXPIRED",
        text,
        {
            "expired_at_millis": expired_at_millis,
            "project_id": project_id,
            "user_id": user_id,
            "refresh_token_id": refresh_token_id,
        },
    )


def invalid_project_for_access_token(expected: str, actual: str) -> KnownError:
    return KnownError(
        "INVALID_PROJECT_FOR_ACCESS_TOKEN",
        f"Access token not valid for this project. Expected project ID {_q(expected)}, "
        f"but the token is for project ID {_q(actual)}.",
        {"expected_project_id": expected, "actual_project_id": actual},
    )


def anonymous_authentication_not_allowed() -> KnownError:
    return KnownError(
        "ANONYMOUS_AUTHENTICATION_NOT_ALLOWED",
        "X-Stack-Access-Token is for an anonymous user, but anonymous users are not enabled. Set the "
        "X-Stack-Allow-Anonymous-User header of this request to 'true' to allow anonymous users.",
    )


def restricted_user_not_allowed(reason: dict[str, Any]) -> KnownError:
    return KnownError(
        "RESTRICTED_USER_NOT_ALLOWED",
        f"The user in the access token is in restricted state. Reason: {reason.get('type')}. Please pass the "
        "X-Stack-Allow-Restricted-User header if this is intended.",
        {"restricted_reason": reason},
    )


def refresh_token_not_found_or_expired() -> KnownError:
    return KnownError(
        "REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED",
        "Refresh token not found for this project, or the session has expired/been revoked.",
    )


def cannot_delete_current_session() -> KnownError:
    return KnownError("CANNOT_DELETE_CURRENT_SESSION", "Cannot delete the current session.")


def invalid_authorization_code() -> KnownError:
    return KnownError("INVALID_AUTHORIZATION_CODE", "The given authorization code is invalid.")


def invalid_oauth_client_id_or_secret(client_id: str | None) -> KnownError:
    return KnownError(
        "INVALID_OAUTH_CLIENT_ID_OR_SECRET",
        "The OAuth client ID or secret is invalid. The client ID must be equal to the project ID (potentially with a "
        "hash and a branch ID), and the client secret must be a publishable client key.",
        {"client_id": client_id},
    )


# --- users ---------------------------------------------------------------------------------------------------------


def user_email_already_exists(email: str, would_work_if_email_was_verified: bool = False) -> KnownError:
    tail = (
        " but the email is not verified. Please login to your existing account with the method you used to sign up, "
        "and then verify your email to sign in with this login method."
        if would_work_if_email_was_verified
        else "."
    )
    return KnownError(
        "USER_EMAIL_ALREADY_EXISTS",
        f"A user with email {_q(email)} already exists{tail}",
        {"email": email, "would_work_if_email_was_verified": would_work_if_email_was_verified},
    )


def cannot_get_own_user_without_user() -> KnownError:
    return KnownError(
        "CANNOT_GET_OWN_USER_WITHOUT_USER",
        "You have specified 'me' as a userId, but did not provide authentication for a user.",
    )


def user_id_does_not_exist(user_id: str) -> KnownError:
    return KnownError(
        "USER_ID_DOES_NOT_EXIST", f"The given user with the ID {user_id} does not exist.", {"user_id": user_id}
    )


def user_not_found() -> KnownError:
    return KnownError("USER_NOT_FOUND", "User not found.")


def user_authentication_required() -> KnownError:
    return KnownError("USER_AUTHENTICATION_REQUIRED", "User authentication required for this endpoint.")


# --- password auth -------------------------------------------------------------------------------------------------


def sign_up_not_enabled() -> KnownError:
    return KnownError(
        "SIGN_UP_NOT_ENABLED",
        "Creation of new accounts is not enabled for this project. Please ask the project owner to enable it.",
    )


def password_authentication_not_enabled() -> KnownError:
    return KnownError("PASSWORD_AUTHENTICATION_NOT_ENABLED", "Password authentication is not enabled for this project.")


def email_password_mismatch() -> KnownError:
    return KnownError("EMAIL_PASSWORD_MISMATCH", "Wrong e-mail or password.")


def password_too_short(min_length: int) -> KnownError:
    return KnownError(
        "PASSWORD_TOO_SHORT", f"Password too short. Minimum length is {min_length}.", {"min_length": min_length}
    )


def password_too_long(max_length: int) -> KnownError:
    return KnownError(
        "PASSWORD_TOO_LONG", f"Password too long. Maximum length is {max_length}.", {"maxLength": max_length}
    )


def multi_factor_authentication_required(attempt_code: str) -> KnownError:
    return KnownError(
        "MULTI_FACTOR_AUTHENTICATION_REQUIRED",
        "Multi-factor authentication is required for this user.",
        {"attempt_code": attempt_code},
    )


# --- contact channels ----------------------------------------------------------------------------------------------


def email_already_verified() -> KnownError:
    return KnownError("EMAIL_ALREADY_VERIFIED", "The e-mail is already verified.")


def contact_channel_already_used_for_auth_by_someone_else(
    channel_type: str, value: str | None = None, would_work_if_email_was_verified: bool = False
) -> KnownError:
    shown = f' "({value})"' if value is not None else ""
    details: dict[str, Any] = {"type": channel_type}
    if value is not None:
        details["contact_channel_value"] = value
    details["would_work_if_email_was_verified"] = would_work_if_email_was_verified
    return KnownError(
        "CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE",
        f"This {channel_type}{shown} is already used for authentication by another account.",
        details,
    )


# --- teams and permissions -----------------------------------------------------------------------------------------


def team_not_found(team_id: str) -> KnownError:
    return KnownError("TEAM_NOT_FOUND", f"Team {team_id} not found.", {"team_id": team_id})


def team_membership_not_found(team_id: str, user_id: str) -> KnownError:
    return KnownError(
        "TEAM_MEMBERSHIP_NOT_FOUND",
        f"User {user_id} is not found in team {team_id}.",
        {"team_id": team_id, "user_id": user_id},
    )


def team_membership_already_exists() -> KnownError:
    return KnownError("TEAM_MEMBERSHIP_ALREADY_EXISTS", "Team membership already exists.")


def permission_not_found(permission_id: str) -> KnownError:
    return KnownError(
        "PERMISSION_NOT_FOUND",
        f'Permission "{permission_id}" not found. Make sure you created it on the dashboard.',
        {"permission_id": permission_id},
    )


def wrong_permission_scope(permission_id: str, expected_scope: str, actual_scope: str) -> KnownError:
    return KnownError(
        "WRONG_PERMISSION_SCOPE",
        f'Permission "{permission_id}" not found. (It was found for a different scope "{actual_scope}", but scope '
        f'"{expected_scope}" was expected.)',
        {"permission_id": permission_id, "expected_scope": expected_scope, "actual_scope": actual_scope},
    )


def team_permission_required(team_id: str, user_id: str, permission_id: str) -> KnownError:
    return KnownError(
        "TEAM_PERMISSION_REQUIRED",
        f"User {user_id} does not have permission {permission_id} in team {team_id}.",
        {"team_id": team_id, "user_id": user_id, "permission_id": permission_id},
    )


def team_permission_not_found(team_id: str, user_id: str, permission_id: str) -> KnownError:
    return KnownError(
        "TEAM_PERMISSION_NOT_FOUND",
        f"User {user_id} does not have permission {permission_id} in team {team_id}.",
        {"team_id": team_id, "user_id": user_id, "permission_id": permission_id},
    )


# --- API keys and OAuth provider accounts ----------------------------------------------------------------------------


def api_key_not_found() -> KnownError:
    return KnownError("API_KEY_NOT_FOUND", "API key not found.")


def api_key_revoked() -> KnownError:
    return KnownError("API_KEY_REVOKED", "API key has been revoked.")


def api_key_expired() -> KnownError:
    return KnownError("API_KEY_EXPIRED", "API key has expired.")


def wrong_api_key_type(expected: str, actual: str) -> KnownError:
    return KnownError(
        "WRONG_API_KEY_TYPE",
        f"This endpoint is for {expected} API keys, but a {actual} API key was provided.",
        {"expected_type": expected, "actual_type": actual},
    )


def oauth_provider_account_id_already_used_for_sign_in() -> KnownError:
    return KnownError(
        "OAUTH_PROVIDER_ACCOUNT_ID_ALREADY_USED_FOR_SIGN_IN",
        "A provider with the same account ID is already used for signing in.",
    )


# --- sign-in flows (codes, MFA, CLI, OAuth) ------------------------------------------------------------------------


def redirect_url_not_whitelisted() -> KnownError:
    return KnownError(
        "REDIRECT_URL_NOT_WHITELISTED",
        "Redirect URL not whitelisted. Did you forget to add this domain to the trusted domains list on the Stack "
        "Auth dashboard?",
    )


def verification_code_not_found() -> KnownError:
    return KnownError("VERIFICATION_CODE_NOT_FOUND", "The verification code does not exist for this project.")


def verification_code_expired() -> KnownError:
    return KnownError("VERIFICATION_CODE_EXPIRED", "The verification code has expired.")


def verification_code_already_used() -> KnownError:
    return KnownError("VERIFICATION_CODE_ALREADY_USED", "The verification link has already been used.")


def verification_code_max_attempts_reached() -> KnownError:
    return KnownError(
        "VERIFICATION_CODE_MAX_ATTEMPTS_REACHED",
        "The verification code nonce has reached the maximum number of attempts. This code is not valid anymore.",
    )


def invalid_totp_code() -> KnownError:
    return KnownError("INVALID_TOTP_CODE", "The TOTP code is invalid. Please try again.")


def anonymous_accounts_not_enabled() -> KnownError:
    return KnownError("ANONYMOUS_ACCOUNTS_NOT_ENABLED", "Anonymous accounts are not enabled for this project.")


def user_does_not_have_password() -> KnownError:
    return KnownError("USER_DOES_NOT_HAVE_PASSWORD", "This user does not have password authentication enabled.")


def password_confirmation_mismatch() -> KnownError:
    return KnownError("PASSWORD_CONFIRMATION_MISMATCH", "Passwords do not match.")


def invalid_polling_code() -> KnownError:
    return KnownError("INVALID_POLLING_CODE", "The polling code is invalid or does not exist.")


def oauth_provider_not_found_or_not_enabled() -> KnownError:
    return KnownError("OAUTH_PROVIDER_NOT_FOUND_OR_NOT_ENABLED", "The OAuth provider is not found or not enabled.")


def oauth_extra_scope_not_available_with_shared_oauth_keys() -> KnownError:
    return KnownError(
        "OAUTH_EXTRA_SCOPE_NOT_AVAILABLE_WITH_SHARED_OAUTH_KEYS",
        "Extra scopes are not available with shared OAuth keys. Please add your own OAuth keys on the Stack dashboard "
        "to use extra scopes.",
    )
