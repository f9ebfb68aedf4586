//! `POST /api/auth/register`: the JSON twin of the registration page, with the same rules
//! (throttled per IP, the password policy, `open`/`verify`/`closed`).

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::me::UserResponse;
use crate::auth::accounts::{self, RegisterError, Registered};
use crate::auth::client::ClientInfo;
use crate::auth::csrf::session_cookies;
use crate::auth::sessions;
use crate::domain::Email;
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RegisterRequest {
    #[serde(default)]
    email: String,
    password: SecretString,
}

/// 201 with the user and auth cookies (`open`); 202 (`verify`: a link is on its way, and the
/// answer is the same for a taken address); 404 (`closed`).
pub async fn register(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    if !state.registration.is_open() {
        return Err(ApiError::NotFound);
    }
    let body = body.into_inner();
    let email = Email::try_from(body.email.as_str())
        .map_err(|message| ApiError::unprocessable("invalid_email", format!("email: {message}")))?;
    let deps = (state.password_policy, state.registration, &state.mail);
    let user = match accounts::register(&state.pool, &state.hasher, deps, email, body.password, &client).await
    {
        Ok(Registered::SignedUp(user)) => user,
        Ok(Registered::CheckInbox) => return Ok(HttpResponse::Accepted().finish()),
        Err(RegisterError::EmailTaken) => {
            return Err(ApiError::Conflict {
                code: "email_taken",
                message: "email: an account with this email already exists; sign in instead.",
            });
        }
        Err(RegisterError::Policy(message)) => {
            return Err(ApiError::unprocessable("weak_password", format!("password: {message}")));
        }
        Err(RegisterError::Throttled(t)) => {
            return Err(ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs });
        }
        Err(RegisterError::Busy(busy)) => return Err(busy.into()),
        Err(RegisterError::Store(e)) => return Err(e.into()),
        Err(RegisterError::Unexpected(e)) => return Err(e.into()),
    };
    let signed = sessions::start_session(&state.sessions, user, false, &client).await?;
    let mut res = HttpResponse::Created();
    for cookie in session_cookies(&state.cookies, &state.csrf, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}
