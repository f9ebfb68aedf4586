//! The recovery routes of the JSON API: the same flows as the pages, the same answers for known
//! and unknown addresses.

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::auth::account::recovery;
use crate::auth::account::verification;
use crate::auth::client::ClientInfo;
use crate::errors::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct ForgotPasswordRequest {
    #[schema(format = Email)]
    email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    token: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Ask for a password-reset link.
///
/// The answer is the same whether or not the address has an account; 429 only for a flood
/// from one client.
#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "recovery", request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "If the address has an account, a reset link is on its way."),
        (status = 429, description = "`too_many_requests`: a flood from one client.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn forgot_password(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ttl = state.reset_ttl_secs();
    match recovery::request_reset(&state.pool, &state.mail, ttl, &body.email, &client).await? {
        Ok(()) => Ok(HttpResponse::Accepted().finish()),
        Err(t) => Err(ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs }),
    }
}

/// Set a new password with the token from a reset link.
///
/// Every session of the account ends, and a notice is mailed.
#[utoipa::path(post, path = "/api/auth/reset-password", tag = "recovery", request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "The password is set and every session of the account has ended."),
        (status = 400, description = "`invalid_link`: the token was used, has expired or is not valid.", body = ErrorBody),
        (status = 422, description = "`weak_password`: the message says why.", body = ErrorBody),
    ))]
pub async fn reset_password(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    recovery::reset_password(state.password_setting(), &body.token, body.password, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    token: String,
}

/// Confirm an email address with the token from its link.
///
/// Also applies a pending change of address.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "recovery", request_body = VerifyEmailRequest,
    responses(
        (status = 204, description = "The address is confirmed (or the email change applied)."),
        (status = 400, description = "`invalid_link`: the token was used, has expired or is not valid.", body = ErrorBody),
    ))]
pub async fn verify_email(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    verification::confirm(&state.pool, &body.token, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a new confirmation link.
///
/// Unless the address is confirmed already, or it has had several links lately.
#[utoipa::path(post, path = "/api/account/verification", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    responses((status = 202, description = "A new confirmation link is queued, unless the address is confirmed already or has had several lately.")))]
pub async fn send_verification(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    if !identity.email_verified {
        verification::resend(&state.pool, &state.mail, &identity.user_id).await?;
    }
    Ok(HttpResponse::Accepted().finish())
}
