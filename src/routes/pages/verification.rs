//! Confirming an email address: the mailed link's page, its confirm form, and "send it again".

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::account::verification::{self, VerifyError};
use crate::auth::client::ClientInfo;
use crate::auth::{CurrentUser, MaybeUser};
use crate::errors::{ApiError, PageError};
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/verify_email.html")]
pub struct VerifyEmailPage {
    layout: Layout,
    valid: bool,
    token: String,
}

#[derive(Template)]
#[template(path = "pages/check_inbox.html")]
pub struct CheckInboxPage {
    layout: Layout,
    message: &'static str,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// "Check your inbox": after registering with `verify`, and after asking for a link again.
pub fn check_inbox(
    req: &HttpRequest,
    state: &AppState,
    message: &'static str,
) -> Result<HttpResponse, PageError> {
    let (layout, cookie) = layout(req, state, None);
    render(StatusCode::OK, &CheckInboxPage { layout, message }, cookie)
}

/// Shows a confirm button for a usable link; a GET never uses it up.
pub async fn verify_email_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<TokenForm>,
) -> Result<HttpResponse, PageError> {
    let token = query.into_inner().token;
    let valid = match verification::check(&state.pool, &token).await {
        Ok(()) => true,
        Err(VerifyError::InvalidLink) => false,
        Err(VerifyError::Store(e)) => return Err(e.into()),
    };
    let (layout, cookie) = layout(&req, &state, user.0.as_ref());
    let status = if valid { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let mut res = render(status, &VerifyEmailPage { layout, valid, token }, cookie)?;
    res.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    Ok(res)
}

pub async fn verify_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    match verification::confirm(&state.pool, &form.token, &client).await {
        Ok(_) if user.0.is_some() => Ok(see_other("/account?done=verified", [])),
        Ok(_) => Ok(see_other("/login?verified=done", [])),
        Err(VerifyError::InvalidLink) => {
            let (layout, cookie) = layout(&req, &state, user.0.as_ref());
            let page = VerifyEmailPage { layout, valid: false, token: String::new() };
            render(StatusCode::BAD_REQUEST, &page, cookie)
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// "Send the link again" from the sign-in page: the same answer whatever the address.
pub async fn resend_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, PageError> {
    if let Err(t) = verification::resend_by_email(&state.pool, &state.mail, &form.email, &client).await? {
        return Err(ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs }.into());
    }
    check_inbox(
        &req,
        &state,
        "If that address has an account waiting for confirmation, a new link is on its way.",
    )
}

/// "Send the link again" from the account page.
pub async fn send_verification(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    if !identity.email_verified {
        verification::resend(&state.pool, &state.mail, &identity.user_id).await?;
    }
    Ok(see_other("/account?done=verification", []))
}
