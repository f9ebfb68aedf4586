//! `/api/account`: the caller's own account.

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::account::lifecycle::{self, AccountError};
use crate::auth::account::password_change::{self, PasswordChange};
use crate::auth::account::reauth;
use crate::auth::account::verification::{self, EmailChange};
use crate::auth::client::ClientInfo;
use crate::auth::{CurrentUser, Via};
use crate::db::models::SecurityEvent;
use crate::db::{self, events};
use crate::errors::{ApiError, ErrorBody};
use crate::routes::device::describe_device;
use crate::routes::format::rfc3339;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Delete your own account.
///
/// The account, its sessions, security events and links are gone at once, and the cookies are
/// cleared. Asks for the password again.
#[utoipa::path(delete, path = "/api/account", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "The account, its sessions, events and links are gone; the cookies are cleared."),
        (status = 409, description = "`last_admin`: the last enabled administrator cannot delete their account.", body = ErrorBody),
        (status = 422, description = "`wrong_password`.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn delete_account(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    let password = body.into_inner().password;
    reauth::reauthenticate(state.password_check(), &identity.user_id, Some(password), &client)
        .await
        .map_err(ApiError::from)?;
    lifecycle::delete_user(&state.pool, &identity.user_id, None, &client).await.map_err(ApiError::from)?;
    let mut res = HttpResponse::NoContent();
    for cookie in state.cookies.cleared() {
        res.cookie(cookie);
    }
    Ok(res.finish())
}

#[derive(Deserialize, ToSchema)]
pub struct ChangeEmailRequest {
    #[schema(format = Email)]
    new_email: String,
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
}

/// Change your email address.
///
/// A confirmation link goes to the new address (the change applies when it is followed) and a
/// notice to the old one.
#[utoipa::path(post, path = "/api/account/email", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "A link goes to the new address (the change applies when it is followed), a notice to the old one."),
        (status = 422, description = "`invalid_email` (`new_email`) or `wrong_password` (`current_password`).", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn change_email(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let asked = EmailChange { new_email: body.new_email.as_str(), password: body.current_password };
    verification::request_change(state.password_check(), &state.mail, &user.0.user_id, asked, &client)
        .await
        .map_err(|e| match e {
            AccountError::Policy(message) => {
                ApiError::unprocessable("invalid_email", format!("new_email: {message}"))
            }
            AccountError::WrongPassword => ApiError::unprocessable(
                "wrong_password",
                "current_password: that is not your current password.",
            ),
            other => ApiError::from(other),
        })?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    new_password: SecretString,
}

/// Change your password.
///
/// Every other session ends. A cookie session gets fresh cookies; a Bearer client's refresh
/// token is replaced too (older ones of this session die), so it signs in again when its access
/// token runs out.
#[utoipa::path(post, path = "/api/account/password", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other session has ended. A cookie session gets fresh cookies; a Bearer client's refresh token is replaced.", headers(("Set-Cookie" = String, description = "Cookie sessions: the new auth cookies."))),
        (status = 409, description = "`changed_elsewhere`: another session changed the password a moment ago.", body = ErrorBody),
        (status = 422, description = "`wrong_password` (`current_password`) or `weak_password` (`new_password`).", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    let body = body.into_inner();
    let change = PasswordChange { current: body.current_password, new: body.new_password };
    let signed = password_change::change_password(
        &state.sessions,
        state.password_check(),
        state.password_policy,
        &identity,
        change,
        &client,
    )
    .await
    .map_err(ApiError::from)?;
    let mut res = HttpResponse::NoContent();
    if identity.via == Via::Cookie {
        for cookie in state.cookies.pair(&signed.access.token, &signed.refresh.token, signed.cookie_max_age) {
            res.cookie(cookie);
        }
    }
    Ok(res.finish())
}

#[derive(Serialize, ToSchema)]
pub struct EventResponse {
    /// What happened: `login_succeeded`, `login_failed`, `refresh_reuse_detected`, `password_changed`, `session_revoked`, `user_disabled`, `mfa_challenged`, `mfa_failed`, `totp_enabled`, `passkey_added`, … (new kinds may appear).
    kind: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    at: String,
    ip: String,
    device: String,
    /// Who caused it, when someone else did: "by admin@example.com".
    detail: Option<String>,
}

/// How many of the caller's most recent security events `GET /api/account/events` returns.
pub const EVENTS_LISTED: i64 = 100;

/// Your security events.
///
/// The most recent ones (at most 100), newest first: sign-ins, failures, password changes,
/// sessions ended.
#[utoipa::path(get, path = "/api/account/events", tag = "account",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "The caller's most recent security events (at most 100), newest first.", body = Vec<EventResponse>)))]
pub async fn list_events(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<Vec<EventResponse>>, ApiError> {
    let user_id = user.0.user_id;
    let rows =
        db::query(&state.pool, move |conn| events::recent_events(conn, &user_id, EVENTS_LISTED)).await?;
    Ok(web::Json(rows.into_iter().map(EventResponse::from).collect()))
}

impl From<SecurityEvent> for EventResponse {
    fn from(e: SecurityEvent) -> Self {
        Self {
            kind: e.kind.as_str().to_owned(),
            at: rfc3339(e.created_at),
            ip: e.ip,
            device: describe_device(&e.user_agent),
            detail: e.detail,
        }
    }
}
