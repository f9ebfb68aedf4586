//! `POST /api/auth/register`: the JSON twin of the registration page, with the same rules
//! (throttled per IP, the password policy, `open`/`verify`/`closed`).

use actix_web::{HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::me::UserResponse;
use crate::auth::account::register::{self, Registered};
use crate::auth::client::ClientInfo;
use crate::auth::session::sign_in;
use crate::auth::web::csrf_forms::session_cookies;
use crate::domain::Email;
use crate::errors::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(format = Email)]
    #[serde(default)]
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Create an account.
///
/// With registration `open`, the account is signed in at once; with `verify`, a confirmation
/// link is mailed and the answer is the same for a taken address; with `closed`, 404.
#[utoipa::path(post, path = "/api/auth/register", tag = "session", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registration is `open`: the account exists and is signed in.", body = UserResponse, headers(("Set-Cookie" = String, description = "The access, refresh and CSRF cookies."))),
        (status = 202, description = "Registration is `verify`: a confirmation link is on its way (the same answer for a taken address)."),
        (status = 404, description = "`not_found`: registration is `closed`.", body = ErrorBody),
        (status = 409, description = "`email_taken` (registration `open` only).", body = ErrorBody),
        (status = 422, description = "`invalid_email` or `weak_password`; the message names the field.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many registrations from this client.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
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
    let user =
        match register::register(state.password_setting(), state.registration, email, body.password, &client)
            .await
        {
            Ok(Registered::SignedUp(user)) => user,
            Ok(Registered::CheckInbox) => return Ok(HttpResponse::Accepted().finish()),
            Err(e) => return Err(e.into()),
        };
    let signed =
        sign_in::start_session(&state.sessions, user, false, crate::auth::identity::Amr::Password, &client)
            .await?;
    let mut res = HttpResponse::Created();
    for cookie in session_cookies(&state.cookies, &state.csrf, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}
