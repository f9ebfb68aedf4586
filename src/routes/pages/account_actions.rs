//! The account page's forms: change password, sign out one session, sign out the others.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::account::show;
use crate::auth::CurrentUser;
use crate::auth::account::lifecycle::{self, AccountError};
use crate::auth::account::password_change::{self, ChangePasswordError, PasswordChange};
use crate::auth::account::reauth;
use crate::auth::account::verification::{self, EmailChange};
use crate::auth::client::ClientInfo;
use crate::auth::provider::grants;
use crate::auth::session::sign_in;
use crate::errors::{ApiError, PageError};
use crate::routes::view::render::see_other;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: SecretString,
    new_password: SecretString,
    /// Optional: checked when the form sends it.
    new_password_confirm: Option<SecretString>,
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let form = form.into_inner();
    if form
        .new_password_confirm
        .as_ref()
        .is_some_and(|c| c.expose_secret() != form.new_password.expose_secret())
    {
        let error = Some("The two new passwords do not match.".to_owned());
        return show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, error, []).await;
    }
    let change = PasswordChange { current: form.current_password, new: form.new_password };
    match password_change::change_password(
        &state.sessions,
        state.password_check(),
        state.password_policy,
        &identity,
        change,
        &client,
    )
    .await
    {
        Ok(pair) => {
            let cookies = state.cookies.pair(&pair.access.token, &pair.refresh.token, pair.cookie_max_age);
            Ok(see_other("/account?done=password", cookies))
        }
        Err(ChangePasswordError::WrongCurrentPassword) => {
            let error = Some("Your current password is not correct.".to_owned());
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, error, []).await
        }
        Err(ChangePasswordError::ChangedElsewhere) => Err(PageError::new(
            StatusCode::CONFLICT,
            "Password changed elsewhere",
            "Your password was changed from another session a moment ago. Sign in again with the new one.",
        )),
        Err(ChangePasswordError::Policy(message)) => {
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, Some(message), []).await
        }
        Err(ChangePasswordError::Throttled(t)) => {
            Err(ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs }.into())
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    password: SecretString,
}

/// Deletes the caller's account (password required) and signs this browser out.
pub async fn delete_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let checked = reauth::reauthenticate(
        state.password_check(),
        &identity.user_id,
        Some(form.into_inner().password),
        &client,
    )
    .await;
    let refused = |message: &str| {
        show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, Some(message.to_owned()), [])
    };
    match checked {
        Ok(_) => {}
        Err(AccountError::WrongPassword) => {
            return refused("Your password is not correct; the account was not deleted.").await;
        }
        Err(e) => return Err(ApiError::from(e).into()),
    }
    match lifecycle::delete_user(&state.pool, &identity.user_id, None, &client).await {
        Ok(()) => Ok(see_other("/login?deleted=done", state.cookies.cleared())),
        Err(AccountError::LastAdmin) => {
            refused("You are the last administrator: make someone else an administrator first.").await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    new_email: String,
    current_password: SecretString,
}

/// Mails a link to the new address (and a notice to the old one); the change applies when
/// the link's confirm form is posted.
pub async fn change_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let form = form.into_inner();
    let asked = EmailChange { new_email: form.new_email.as_str(), password: form.current_password };
    match verification::request_change(state.password_check(), &state.mail, &identity.user_id, asked, &client)
        .await
    {
        Ok(()) => Ok(see_other("/account?done=email", [])),
        Err(AccountError::WrongPassword) => {
            let error = Some("Your current password is not correct.".to_owned());
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, error, []).await
        }
        Err(AccountError::Policy(message)) => {
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, None, Some(message), []).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

/// Signs out one of the caller's sessions; ending the current one is a sign-out.
pub async fn revoke_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    if !sign_in::revoke(&state.pool, &identity.user_id, &id.as_str().into(), &client).await? {
        return Err(PageError::not_found());
    }
    if *id == identity.session_id.as_str() {
        return Ok(see_other("/login", state.cookies.cleared()));
    }
    Ok(see_other("/account?done=revoked", []))
}

pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    sign_in::revoke_others(&state.pool, &identity.user_id, &identity.session_id, &client).await?;
    Ok(see_other("/account?done=others", []))
}

/// Takes an app's access away ("Apps with access"): its tokens stop working at once.
pub async fn revoke_app(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if !grants::revoke(&state.pool, &user.0, &id, &client).await? {
        return Err(PageError::not_found());
    }
    Ok(see_other("/account?done=app-revoked#apps", []))
}
