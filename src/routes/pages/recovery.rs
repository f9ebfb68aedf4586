//! "Forgot password" and the reset link's form.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::MaybeUser;
use crate::auth::account::recovery::{self, ResetError};
use crate::auth::client::ClientInfo;
use crate::errors::{ApiError, PageError};
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/forgot_password.html")]
pub struct ForgotPasswordPage {
    layout: Layout,
    sent: bool,
    minutes: i64,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/reset_password.html")]
pub struct ResetPasswordPage {
    layout: Layout,
    token: String,
    password_min: usize,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/reset_link_invalid.html")]
pub struct ResetLinkInvalidPage {
    layout: Layout,
    minutes: i64,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    new_password: SecretString,
    password_confirm: SecretString,
}

pub async fn forgot_password_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, PageError> {
    let (layout, cookie) = layout(&req, &state, user.0.as_ref());
    let page = ForgotPasswordPage { layout, sent: false, minutes: state.reset_minutes(), error: None };
    render(StatusCode::OK, &page, cookie)
}

/// The same page whether or not the address has an account.
pub async fn forgot_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    let requested =
        recovery::request_reset(&state.pool, &state.mail, state.reset_ttl_secs(), &form.email, &client)
            .await?;
    if let Err(t) = requested {
        return Err(ApiError::TooManyRequests { retry_after_secs: t.retry_after_secs }.into());
    }
    let (layout, cookie) = layout(&req, &state, user.0.as_ref());
    let page = ForgotPasswordPage { layout, sent: true, minutes: state.reset_minutes(), error: None };
    render(StatusCode::OK, &page, cookie)
}

/// Shows the form for a usable link; never uses it up (mail scanners prefetch links).
pub async fn reset_password_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let token = query.into_inner().token;
    match recovery::check_link(&state.pool, &token).await {
        Ok(()) => show_form(&req, &state, &user, token, StatusCode::OK, None),
        Err(e) => answer_error(&req, &state, &user, token, e),
    }
}

pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    if form.new_password.expose_secret() != form.password_confirm.expose_secret() {
        let error = Some("The two passwords do not match.".to_owned());
        return show_form(&req, &state, &user, form.token, StatusCode::UNPROCESSABLE_ENTITY, error);
    }
    match recovery::reset_password(state.password_setting(), &form.token, form.new_password, &client).await {
        Ok(()) => {
            let [access, refresh] = state.cookies.cleared();
            Ok(see_other("/login?reset=done", [access, refresh]))
        }
        Err(e) => answer_error(&req, &state, &user, form.token, e),
    }
}

fn show_form(
    req: &HttpRequest,
    state: &AppState,
    user: &MaybeUser,
    token: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (layout, cookie) = layout(req, state, user.0.as_ref());
    let page = ResetPasswordPage { layout, token, password_min: state.password_policy.min_chars, error };
    let mut res = render(status, &page, cookie)?;
    // The token is in the address: no Referer leaves the site (not `no-referrer`: that would
    // make the form post's `Origin` null, and the Origin check refuse it).
    res.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    Ok(res)
}

fn answer_error(
    req: &HttpRequest,
    state: &AppState,
    user: &MaybeUser,
    token: String,
    e: ResetError,
) -> Result<HttpResponse, PageError> {
    match e {
        ResetError::InvalidLink => {
            let (layout, cookie) = layout(req, state, user.0.as_ref());
            let page = ResetLinkInvalidPage { layout, minutes: state.reset_minutes() };
            render(StatusCode::BAD_REQUEST, &page, cookie)
        }
        ResetError::Policy(message) => {
            show_form(req, state, user, token, StatusCode::UNPROCESSABLE_ENTITY, Some(message))
        }
        ResetError::Busy(busy) => Err(ApiError::from(busy).into()),
        ResetError::Store(e) => Err(e.into()),
        ResetError::Unexpected(e) => Err(e.into()),
    }
}
