//! `/api/account`: the caller's own account.

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::client::ClientInfo;
use crate::auth::lifecycle::{self, AccountError};
use crate::auth::verification;
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DeleteAccountRequest {
    password: SecretString,
}

/// 204: the account, its sessions, events and links are gone; the cookies are cleared.
pub async fn delete_account(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    let password = body.into_inner().password;
    lifecycle::reauthenticate(
        &state.pool,
        &state.hasher,
        &state.throttle,
        &identity.user_id,
        password,
        &client,
    )
    .await
    .map_err(api_error)?;
    lifecycle::delete_user(&state.pool, &identity.user_id).await.map_err(api_error)?;
    let mut res = HttpResponse::NoContent();
    for cookie in state.cookies.cleared() {
        res.cookie(cookie);
    }
    Ok(res.finish())
}

#[derive(Deserialize)]
pub struct ChangeEmailRequest {
    new_email: String,
    current_password: SecretString,
}

/// 202: a link goes to the new address (the change applies when it is followed) and a notice
/// to the old one.
pub async fn change_email(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let deps = (&state.throttle, &state.mail);
    let asked = (body.new_email.as_str(), body.current_password);
    verification::request_change(&state.pool, &state.hasher, deps, &user.0.user_id, asked, &client)
        .await
        .map_err(|e| match e {
            AccountError::Policy(message) => {
                ApiError::unprocessable("invalid_email", format!("new_email: {message}"))
            }
            AccountError::WrongPassword => ApiError::unprocessable(
                "wrong_password",
                "current_password: that is not your current password.",
            ),
            other => api_error(other),
        })?;
    Ok(HttpResponse::Accepted().finish())
}

/// The one mapping of an account action's failure to a JSON answer.
pub fn api_error(e: AccountError) -> ApiError {
    match e {
        AccountError::WrongPassword => {
            ApiError::unprocessable("wrong_password", "password: that is not your current password.")
        }
        AccountError::Throttled(t) => ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs },
        AccountError::NotFound => ApiError::NotFound,
        AccountError::LastAdmin => ApiError::Conflict {
            code: "last_admin",
            message: "This is the last enabled administrator: make someone else an administrator first.",
        },
        AccountError::Policy(message) => {
            ApiError::unprocessable("weak_password", format!("password: {message}"))
        }
        AccountError::Busy(busy) => busy.into(),
        AccountError::Store(e) => e.into(),
        AccountError::Unexpected(e) => e.into(),
    }
}
