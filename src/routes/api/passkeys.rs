//! Passkeys from the JSON API: the two halves of adding one and of signing in with one (the
//! browser's `navigator.credentials` runs between them), listing and removing. Behind an IP
//! public URL, starting either ceremony answers 409 `passkeys_unavailable`.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::me::UserResponse;
use crate::auth::CurrentUser;
use crate::auth::client::ClientInfo;
use crate::auth::factors::passkey_sign_in::{self, PasskeySignIn};
use crate::auth::factors::passkeys::{self, Answer};
use crate::auth::factors::webauthn::Ceremony;
use crate::auth::web::cookies;
use crate::auth::web::csrf_forms::session_cookies;
use crate::errors::{ApiError, ErrorBody};
use crate::routes::format::rfc3339;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CeremonyResponse {
    /// Send it back with the authenticator's answer (5 minutes, single use).
    ceremony: String,
    /// WebAuthn options (JSON form): pass `options.publicKey` to
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`.
    #[schema(value_type = Object)]
    options: Value,
}

impl From<Ceremony> for CeremonyResponse {
    fn from(c: Ceremony) -> Self {
        Self { ceremony: c.id, options: c.options }
    }
}

/// Start a passkey sign-in.
///
/// No account is named: the authenticator offers the passkeys it holds for this site.
#[utoipa::path(post, path = "/api/auth/passkey/options", tag = "session",
    responses(
        (status = 200, description = "The ceremony and the options for `navigator.credentials.get`.", body = CeremonyResponse),
        (status = 409, description = "`passkeys_unavailable`: the public URL is an IP address.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many passkey requests from this address; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn sign_in_options(
    state: web::Data<AppState>,
    client: ClientInfo,
) -> Result<web::Json<CeremonyResponse>, ApiError> {
    let ceremony =
        passkey_sign_in::start_sign_in(&state.pool, state.two_factor.passkeys.as_ref(), &client).await?;
    Ok(web::Json(ceremony.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct PasskeySignInRequest {
    ceremony: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as its `toJSON()`.
    #[schema(value_type = Object)]
    credential: Value,
    /// Keep the cookies after the browser closes ("remember me").
    #[serde(default)]
    remember: bool,
}

/// Sign in with a passkey.
///
/// A passkey is already two factors: no code step follows. Sets the auth cookies.
#[utoipa::path(post, path = "/api/auth/passkey", tag = "session", request_body = PasskeySignInRequest,
    responses(
        (status = 200, description = "Signed in: the user, and the auth cookies.", body = UserResponse, headers(("Set-Cookie" = String, description = "The access, refresh and CSRF cookies."))),
        (status = 400, description = "`passkey_expired` (`ceremony`): start again.", body = ErrorBody),
        (status = 401, description = "`passkey_rejected`: the answer does not verify, or names no passkey of an enabled account.", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable`: the public URL is an IP address.", body = ErrorBody),
    ))]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<PasskeySignInRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let credential: PublicKeyCredential = serde_json::from_value(body.credential).map_err(|_| {
        ApiError::unprocessable("invalid_credential", "credential: not a WebAuthn assertion.")
    })?;
    let attempt = PasskeySignIn {
        ceremony: &body.ceremony,
        credential: &credential,
        remember: body.remember,
        device_cookie: cookies::read_owned(&req, state.cookies.device),
    };
    let signed = passkey_sign_in::finish_sign_in(
        &state.sessions,
        state.two_factor.passkeys.as_ref(),
        attempt,
        &client,
    )
    .await?;
    let mut res = HttpResponse::Ok();
    for cookie in session_cookies(&state.cookies, &state.csrf, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyResponse {
    id: String,
    name: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339, UTC; `null` until its first sign-in.
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
}

/// Your passkeys.
#[utoipa::path(get, path = "/api/account/passkeys", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "The caller's passkeys, oldest first.", body = Vec<PasskeyResponse>)))]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<Vec<PasskeyResponse>>, ApiError> {
    let rows = passkeys::list(&state.pool, &user.0.user_id).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| PasskeyResponse {
                id: r.id,
                name: r.name,
                created_at: rfc3339(r.created_at),
                last_used_at: r.last_used_at.map(rfc3339),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    /// The account's password: adding a credential takes it (SPEC §9).
    #[schema(value_type = String, format = Password)]
    #[serde(default)]
    password: Option<SecretString>,
}

/// The password of a body that may be missing or lack it: both are refused like a wrong one.
pub fn password_of(body: Option<web::Json<PasswordRequest>>) -> Option<SecretString> {
    body.and_then(|b| b.into_inner().password)
}

/// Start adding a passkey.
///
/// Takes the account's password (a session or an access token alone never adds a credential);
/// the ceremony ends if the password changes before it is finished.
#[utoipa::path(post, path = "/api/account/passkeys/options", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "The ceremony and the options for `navigator.credentials.create` (a discoverable credential, user verification required; the caller's passkeys excluded).", body = CeremonyResponse),
        (status = 409, description = "`passkeys_unavailable`: the public URL is an IP address.", body = ErrorBody),
        (status = 422, description = "`wrong_password` (`password`): missing or not the account's password.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many wrong passwords or passkey requests; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn registration_options(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: Option<web::Json<PasswordRequest>>,
) -> Result<web::Json<CeremonyResponse>, ApiError> {
    let pk = state.two_factor.passkeys.as_ref();
    let password = password_of(body);
    let ceremony =
        passkeys::start_registration(state.password_check(), pk, &user.0.user_id, password, &client).await?;
    Ok(web::Json(ceremony.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct AddPasskeyRequest {
    ceremony: String,
    /// What to call it ("Work laptop"); at most 60 characters are kept.
    #[serde(default)]
    name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as its `toJSON()`.
    #[schema(value_type = Object)]
    credential: Value,
}

#[derive(Serialize, ToSchema)]
pub struct AddedPasskeyResponse {
    id: String,
    name: String,
}

/// Add a passkey.
///
/// The owner gets a security event and a mail.
#[utoipa::path(post, path = "/api/account/passkeys", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = AddPasskeyRequest,
    responses(
        (status = 201, description = "Added.", body = AddedPasskeyResponse),
        (status = 400, description = "`passkey_expired` (`ceremony`): start again.", body = ErrorBody),
        (status = 401, description = "`passkey_rejected`: the authenticator's answer does not verify.", body = ErrorBody),
        (status = 409, description = "`passkey_exists`, or `passkeys_unavailable`: the public URL is an IP address.", body = ErrorBody),
    ))]
pub async fn add(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    body: web::Json<AddPasskeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    let body = body.into_inner();
    let credential: RegisterPublicKeyCredential = serde_json::from_value(body.credential).map_err(|_| {
        ApiError::unprocessable("invalid_credential", "credential: not a WebAuthn attestation.")
    })?;
    let answer = Answer { ceremony: &body.ceremony, name: &body.name, credential: &credential };
    let added = passkeys::finish_registration(
        state.mailer(),
        state.two_factor.passkeys.as_ref(),
        &identity,
        answer,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created().json(AddedPasskeyResponse { id: added.id, name: added.name }))
}

/// Remove a passkey.
///
/// The owner gets a security event and a mail.
#[utoipa::path(delete, path = "/api/account/passkeys/{id}", tag = "two-factor",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The passkey's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "`not_found`: no such passkey of yours.", body = ErrorBody),
    ))]
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    passkeys::remove(state.mailer(), &identity, &id, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
