//! `/api/auth/mfa` (the second sign-in step) and `/api/account/2fa` (the caller's factors).

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::me::UserResponse;
use super::passkeys::{PasswordRequest, password_of};
use crate::auth::client::ClientInfo;
use crate::auth::factors::enrolment;
use crate::auth::factors::mfa;
use crate::auth::factors::two_factor;
use crate::auth::session::challenge::MfaFlow;
use crate::auth::web::csrf_forms::session_cookies;
use crate::auth::{CurrentUser, RequireAdmin};
use crate::domain::UserId;
use crate::errors::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct MfaRequest {
    /// The `mfa_token` of the `mfa_required` answer.
    mfa_token: String,
    /// Six digits from the authenticator app, or a recovery code.
    #[schema(value_type = String, example = "123456")]
    code: SecretString,
}

/// The code step's answer, as the first step would have given it (only the document uses it).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum MfaCompleted<'a> {
    /// After the JSON login: the user (and the cookies).
    User(UserResponse),
    /// After the token endpoint: an RFC 6749 token response.
    Tokens(super::token::TokenResponse<'a>),
}

/// Finish a sign-in with a code.
///
/// After `mfa_required` from `POST /api/auth/login` or `POST /api/auth/token`: the code from
/// the authenticator app (each works once) or a recovery code. Answers as the first step would
/// have: the user and cookies after the JSON login, a token response after the token endpoint.
#[utoipa::path(post, path = "/api/auth/mfa", tag = "session", request_body = MfaRequest,
    responses(
        (status = 200, description = "Signed in: the user and the auth cookies (JSON login), or an RFC 6749 token response with `Cache-Control: no-store` (token endpoint).", body = MfaCompleted, headers(("Set-Cookie" = String, description = "The access, refresh and CSRF cookies (JSON login)."))),
        (status = 401, description = "`invalid_code`: wrong or already used (the token survives up to 5 wrong codes); `invalid_mfa_token`: unknown, expired, used, or dead after 5 wrong codes.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong codes for this account; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn complete_mfa(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<MfaRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let sealer = &state.two_factor.sealer;
    let done =
        mfa::complete(&state.sessions, sealer, &state.throttle, &body.mfa_token, &body.code, &client).await?;
    if done.flow == MfaFlow::Token {
        return Ok(super::token::token_response(&done.signed.access, &done.signed.refresh));
    }
    let mut res = HttpResponse::Ok();
    for cookie in session_cookies(&state.cookies, &state.csrf, &done.signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&done.signed.user)))
}

#[derive(Serialize, ToSchema)]
pub struct FactorsResponse {
    /// TOTP (an authenticator app) is on: sign-ins with a password ask for a code.
    totp: bool,
    /// An authenticator app was started but not confirmed yet.
    totp_pending: bool,
    recovery_codes_left: i64,
    passkeys: i64,
}

/// Your second factors.
#[utoipa::path(get, path = "/api/account/2fa", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "Which factors are on.", body = FactorsResponse)))]
pub async fn factors(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<FactorsResponse>, ApiError> {
    let f = two_factor::factors_of(&state.pool, &user.0.user_id).await?;
    Ok(web::Json(FactorsResponse {
        totp: f.totp,
        totp_pending: f.totp_pending,
        recovery_codes_left: f.recovery_codes_left,
        passkeys: f.passkeys,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TotpEnrolmentResponse {
    /// Base32, for typing into an authenticator app.
    secret: String,
    /// The same as an `otpauth://totp/…` URL (what the QR code on `/account/2fa` holds).
    otpauth_url: String,
}

/// Start turning TOTP on.
///
/// Takes the account's password (a session or an access token alone never adds a credential).
/// A pending secret for an authenticator app; it takes effect once a first code from this same
/// session confirms it. Asking again before that gives the same secret.
#[utoipa::path(post, path = "/api/account/2fa/totp", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "The pending secret.", body = TotpEnrolmentResponse),
        (status = 409, description = "`totp_already_on`: turn it off first to enrol another app.", body = ErrorBody),
        (status = 422, description = "`wrong_password` (`password`): missing or not the account's password.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn start_totp(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: Option<web::Json<PasswordRequest>>,
) -> Result<HttpResponse, ApiError> {
    let password = password_of(body);
    let enrolment =
        enrolment::start_totp(state.password_check(), &state.two_factor, &user.0, password, &client)
            .await
            .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpEnrolmentResponse { secret: enrolment.secret, otpauth_url: enrolment.otpauth_url }))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmTotpRequest {
    /// The current six-digit code from the app.
    #[schema(value_type = String, example = "123456")]
    code: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Ten single-use codes, each accepted once in place of a TOTP code. Shown only now.
    recovery_codes: Vec<String>,
}

/// Confirm TOTP with a first code.
///
/// TOTP is on from now on; the answer holds ten recovery codes, which are never shown again.
#[utoipa::path(post, path = "/api/account/2fa/totp/confirm", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = ConfirmTotpRequest,
    responses(
        (status = 200, description = "TOTP is on; the recovery codes.", body = RecoveryCodesResponse),
        (status = 409, description = "`totp_not_pending`: start with `POST /api/account/2fa/totp` (with the password, from this session); `totp_already_on`.", body = ErrorBody),
        (status = 422, description = "`invalid_code` (`code`).", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong codes; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<ConfirmTotpRequest>,
) -> Result<HttpResponse, ApiError> {
    let tf = &state.two_factor;
    let codes = enrolment::confirm_totp(&state.pool, tf, &state.throttle, &user.0, &body.code, &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodesResponse { recovery_codes: codes }))
}

#[derive(Deserialize, ToSchema)]
pub struct DisableTotpRequest {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Turn TOTP off.
///
/// Asks for the password again; the secret and the recovery codes are deleted and the owner
/// is told by mail. Idempotent.
#[utoipa::path(delete, path = "/api/account/2fa/totp", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = DisableTotpRequest,
    responses(
        (status = 204, description = "TOTP is off."),
        (status = 422, description = "`wrong_password` (`password`).", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn disable_totp(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<DisableTotpRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = body.into_inner().password;
    let checks = state.password_check();
    two_factor::disable_totp(checks, &state.mail, &user.0.user_id, password, &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct RenewRecoveryCodesRequest {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Make new recovery codes.
///
/// Ten new codes replace the old ones, which stop working at once. Asks for the password again.
#[utoipa::path(post, path = "/api/account/2fa/recovery-codes", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = RenewRecoveryCodesRequest,
    responses(
        (status = 200, description = "The new recovery codes, shown only now.", body = RecoveryCodesResponse),
        (status = 409, description = "`totp_not_on`: recovery codes come with an authenticator app.", body = ErrorBody),
        (status = 422, description = "`wrong_password` (`password`).", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn renew_recovery_codes(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<RenewRecoveryCodesRequest>,
) -> Result<HttpResponse, ApiError> {
    let checks = state.password_check();
    let codes =
        two_factor::renew_recovery_codes(checks, &user.0.user_id, body.into_inner().password, &client)
            .await
            .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodesResponse { recovery_codes: codes }))
}

/// Reset a user's second factors.
///
/// TOTP, recovery codes and passkeys are gone: the user signs in with the password alone. A
/// security event names the administrator, and the user is told by mail.
#[utoipa::path(delete, path = "/api/admin/users/{id}/2fa", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Every second factor of the user is off."),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody)))]
pub async fn reset_user_factors(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = UserId::from(id.into_inner());
    two_factor::reset(&state.pool, &state.mail, &user_id, admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}
