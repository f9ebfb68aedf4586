use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::layout::{Layout, layout};
use super::render::{render, see_other};
use crate::auth::accounts;
use crate::auth::client::ClientInfo;
use crate::auth::csrf::session_cookies;
use crate::auth::csrf::{self};
use crate::auth::sessions::{self, SignInError};
use crate::auth::{Identity, MaybeUser};
use crate::db::users::CreateUserError;
use crate::domain::{Email, NewPassword, Role};
use crate::errors::PageError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/register.html")]
pub struct RegisterPage {
    layout: Layout,
    email: String,
    password_min: usize,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    password: SecretString,
    password_confirm: SecretString,
    #[serde(default)]
    csrf_token: String,
}

pub async fn register_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, PageError> {
    ensure_open(&state)?;
    show(&req, &state, user.0.as_ref(), StatusCode::OK, String::new(), None)
}

pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    ensure_open(&state)?;
    let form = form.into_inner();
    let identity = user.0.as_ref();
    if !csrf::form_ok(&req, &state.csrf, &state.cookies, identity, &form.csrf_token) {
        let error = csrf::FORM_EXPIRED.to_owned();
        return show(&req, &state, identity, StatusCode::FORBIDDEN, form.email, Some(error));
    }
    let (email, password) = match parse(&state, &form) {
        Ok(parsed) => parsed,
        Err(error) => {
            return show(&req, &state, identity, StatusCode::UNPROCESSABLE_ENTITY, form.email, Some(error));
        }
    };
    let user = match accounts::register(&state.pool, &state.hasher, email, password, Role::User).await {
        Ok(user) => user,
        Err(CreateUserError::EmailTaken) => {
            let error = "An account with this email already exists. Sign in instead.".to_owned();
            return show(&req, &state, identity, StatusCode::CONFLICT, form.email, Some(error));
        }
        Err(CreateUserError::Store(e)) => return Err(e.into()),
        Err(CreateUserError::Unexpected(e)) => return Err(e.into()),
    };
    match sessions::start_session(&state.sessions, user, false, &client).await {
        Ok(signed) => Ok(see_other("/account", session_cookies(&state.cookies, &state.csrf, &signed))),
        Err(SignInError::Store(e)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::new(e).into()),
    }
}

fn ensure_open(state: &AppState) -> Result<(), PageError> {
    if state.registration_open { Ok(()) } else { Err(PageError::not_found()) }
}

fn parse(state: &AppState, form: &RegisterForm) -> Result<(Email, NewPassword), String> {
    let email = Email::try_from(form.email.as_str()).map_err(str::to_owned)?;
    if form.password.expose_secret() != form.password_confirm.expose_secret() {
        return Err("The two passwords do not match.".into());
    }
    let policy = state.password_policy;
    let password = NewPassword::parse(form.password.clone(), policy, &[email.as_ref()])?;
    Ok((email, password))
}

fn show(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(req, state, identity);
    let page = RegisterPage { layout, email, password_min: state.password_policy.min_chars, error };
    render(status, &page, csrf_cookie)
}
