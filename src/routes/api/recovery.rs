//! The recovery routes of the JSON API: the same flows as the pages, the same answers for known
//! and unknown addresses.

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::client::ClientInfo;
use crate::auth::recovery::{self, ResetError};
use crate::auth::verification::{self, VerifyError};
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ForgotPasswordRequest {
    email: String,
}

#[derive(Deserialize)]
pub struct ResetPasswordRequest {
    token: String,
    password: SecretString,
}

/// 202 whether or not the address has an account; 429 only for a flood from one client.
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

/// 204 once the password is set and every session has ended.
pub async fn reset_password(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let deps = (state.password_policy, &state.mail);
    match recovery::reset_password(&state.pool, &state.hasher, deps, &body.token, body.password, &client)
        .await
    {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(ResetError::InvalidLink) => Err(ApiError::bad_request(
            "invalid_link",
            "This reset link has been used, has expired or is not valid. Ask for a new one.",
        )),
        Err(ResetError::Policy(message)) => {
            Err(ApiError::unprocessable("weak_password", format!("password: {message}")))
        }
        Err(ResetError::Busy(busy)) => Err(busy.into()),
        Err(ResetError::Store(e)) => Err(e.into()),
        Err(ResetError::Unexpected(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VerifyEmailRequest {
    token: String,
}

/// 204 once the address the link was mailed to is confirmed.
pub async fn verify_email(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    match verification::confirm(&state.pool, &body.token, &client).await {
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        Err(VerifyError::InvalidLink) => Err(ApiError::bad_request(
            "invalid_link",
            "This confirmation link has been used, has expired or is not valid. Ask for a new one.",
        )),
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// 202: a new confirmation link is queued (unless the address is confirmed already, or it has
/// had several lately).
pub async fn send_verification(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    if !identity.email_verified {
        verification::resend(&state.pool, &state.mail, &identity.user_id, &identity.email).await?;
    }
    Ok(HttpResponse::Accepted().finish())
}
