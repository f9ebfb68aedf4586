use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::provider_links::{ProviderLink, provider_links};
use super::verification::check_inbox;
use crate::auth::account::register::{self, RegisterError, Registered};
use crate::auth::client::ClientInfo;
use crate::auth::session::sign_in::{self, SignInError};
use crate::auth::web::csrf_forms::session_cookies;
use crate::auth::{Identity, MaybeUser};
use crate::domain::Email;
use crate::errors::{ApiError, PageError};
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/register.html")]
pub struct RegisterPage {
    layout: Layout,
    email: String,
    password_min: usize,
    error: Option<String>,
    /// "Sign in with NAME" (SPEC §13): a provider makes the account on the first sign-in.
    providers: Vec<ProviderLink>,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    password: SecretString,
    password_confirm: SecretString,
}

pub async fn register_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, PageError> {
    ensure_open(&state)?;
    let providers = provider_links(&state, "/account").await;
    show(&req, &state, user.0.as_ref(), StatusCode::OK, (String::new(), None), providers)
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
    let refuse = |status, error: String| {
        show(&req, &state, identity, status, (form.email.clone(), Some(error)), Vec::new())
    };
    let email = match Email::try_from(form.email.as_str()) {
        Ok(email) => email,
        Err(error) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_owned()),
    };
    if form.password.expose_secret() != form.password_confirm.expose_secret() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "The two passwords do not match.".into());
    }
    let registered =
        register::register(state.password_setting(), state.registration, email, form.password, &client).await;
    let user = match registered {
        Ok(Registered::SignedUp(user)) => user,
        Ok(Registered::CheckInbox) => {
            return check_inbox(
                &req,
                &state,
                "We sent a link to that address. Follow it to activate your account.",
            );
        }
        Err(RegisterError::EmailTaken) => {
            return refuse(
                StatusCode::CONFLICT,
                "An account with this email already exists. Sign in instead.".into(),
            );
        }
        Err(RegisterError::Policy(error)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, error),
        Err(RegisterError::Throttled(t)) => {
            let message = format!(
                "Too many new accounts from your network. Try again in {} seconds.",
                t.retry_after_secs
            );
            let mut res = refuse(StatusCode::TOO_MANY_REQUESTS, message)?;
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(t.retry_after_secs));
            return Ok(res);
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    match sign_in::start_session(&state.sessions, user, false, crate::auth::identity::Amr::Password, &client)
        .await
    {
        Ok(signed) => Ok(see_other("/account", session_cookies(&state.cookies, &state.csrf, &signed))),
        Err(SignInError::Store(e)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::new(e).into()),
    }
}

fn ensure_open(state: &AppState) -> Result<(), PageError> {
    if state.registration.is_open() { Ok(()) } else { Err(PageError::not_found()) }
}

fn show(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
    status: StatusCode,
    (email, error): (String, Option<String>),
    providers: Vec<ProviderLink>,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(req, state, identity);
    let page =
        RegisterPage { layout, email, password_min: state.password_policy.min_chars, error, providers };
    render(status, &page, csrf_cookie)
}
