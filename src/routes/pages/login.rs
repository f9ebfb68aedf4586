use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::provider_links::{ProviderLink, provider_links};
use crate::auth::client::ClientInfo;
use crate::auth::factors::mfa::{self, MfaError};
use crate::auth::session::sign_in::{self, Credentials, SignInError};
use crate::auth::web::cookies;
use crate::auth::web::csrf_forms::session_cookies;
use crate::auth::{Identity, MaybeUser};
use crate::domain::safe_next;
use crate::errors::BAD_CREDENTIALS;
use crate::errors::{ApiError, PageError};
use crate::routes::headers::with_sign_in_csp;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/login.html")]
pub struct LoginPage {
    layout: Layout,
    next: String,
    email: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The password was right but the address is not confirmed: offer to send the link again.
    unverified: bool,
    /// Passkey sign-in: on, or the one-line reason it is not offered.
    passkeys: Result<(), &'static str>,
    /// "Sign in with NAME" (SPEC §13): each provider's link, `next` carried through.
    providers: Vec<ProviderLink>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// `done` after a password reset.
    reset: Option<String>,
    /// `done` after confirming an email address.
    verified: Option<String>,
    /// `done` after deleting one's account.
    deleted: Option<String>,
    /// An address to fill in (an app's `login_hint`).
    email: Option<String>,
    /// `1`: an app asked for a fresh sign-in (`prompt=login`, `max_age`): ask for the password
    /// even though someone is signed in.
    fresh: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    password: SecretString,
    remember: Option<String>,
    next: Option<String>,
}

pub async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    // Already signed in (perhaps just now, by a refresh in place) and on the way somewhere:
    // go on. A proxy that answers 401 instead of refreshing sends people here.
    if user.0.is_some()
        && query.fresh.is_none()
        && let Some(next) = query.next.as_deref()
    {
        return Ok(see_other(safe_next(Some(next), &state.cors_origins), Vec::new()));
    }
    let notice = match (query.reset.as_deref(), query.verified.as_deref()) {
        (Some("done"), _) => {
            Some("Your password was changed and every session signed out. Sign in with the new one.")
        }
        (_, Some("done")) => Some("Your email address is confirmed. Sign in to continue."),
        _ if query.deleted.as_deref() == Some("done") => Some("Your account has been deleted."),
        _ if query.fresh.is_some() => Some("The app asks you to sign in again to continue."),
        _ => None,
    };
    let (layout, csrf_cookie) = layout(&req, &state, user.0.as_ref());
    let next = safe_next(query.next.as_deref(), &state.cors_origins).to_owned();
    let hint = query.email.as_deref().filter(|e| e.len() <= 254 && !e.chars().any(char::is_control));
    let providers = provider_links(&state, &next).await;
    let page = LoginPage {
        providers,
        layout,
        next,
        email: hint.unwrap_or_default().to_owned(),
        notice,
        error: None,
        unverified: false,
        passkeys: passkeys(&state),
    };
    let next = page.next.clone();
    sign_in_page(&state, &next, render(StatusCode::OK, &page, csrf_cookie)).await
}

/// A page holding the sign-in form or its code step: its form may end in a redirect to one of
/// the deployment's apps, or to the app an authorization in `next` returns to.
async fn sign_in_page(
    state: &AppState,
    next: &str,
    page: Result<HttpResponse, PageError>,
) -> Result<HttpResponse, PageError> {
    Ok(with_sign_in_csp(&state.pool, &state.cors_origins, next, page?).await?)
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let identity = user.0.as_ref();
    let credentials = Credentials {
        email: form.email.clone(),
        password: form.password,
        remember: form.remember.is_some(),
        device_cookie: cookies::read_owned(&req, state.cookies.device),
        browser: true,
    };
    match sign_in::sign_in(&state.sessions, &state.hasher, &state.throttle, credentials, client).await {
        Ok(signed) => Ok(see_other(
            safe_next(form.next.as_deref(), &state.cors_origins),
            session_cookies(&state.cookies, &state.csrf, &signed),
        )),
        Err(SignInError::InvalidCredentials) => {
            show(
                &req,
                &state,
                identity,
                StatusCode::UNAUTHORIZED,
                form.next.as_deref(),
                form.email,
                Some(BAD_CREDENTIALS.to_owned()),
            )
            .await
        }
        Err(SignInError::Throttled { retry_after_secs }) => {
            let message = format!(
                "Too many failed attempts. For your protection, sign-in is paused for {retry_after_secs} seconds."
            );
            let mut res = show(
                &req,
                &state,
                identity,
                StatusCode::TOO_MANY_REQUESTS,
                form.next.as_deref(),
                form.email,
                Some(message),
            )
            .await?;
            let value = actix_web::http::header::HeaderValue::from(retry_after_secs);
            res.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
            Ok(res)
        }
        Err(SignInError::MfaRequired { mfa_token }) => {
            let next = safe_next(form.next.as_deref(), &state.cors_origins).to_owned();
            code_form(&req, &state, identity, StatusCode::OK, mfa_token, next, None).await
        }
        Err(SignInError::EmailNotVerified) => {
            let (layout, csrf_cookie) = layout(&req, &state, identity);
            let next = safe_next(form.next.as_deref(), &state.cors_origins).to_owned();
            let error = Some(ApiError::EmailNotVerified.to_string_for_people());
            let providers = provider_links(&state, &next).await;
            let page = LoginPage {
                providers,
                layout,
                next,
                email: form.email,
                notice: None,
                error,
                unverified: true,
                passkeys: passkeys(&state),
            };
            let next = page.next.clone();
            sign_in_page(&state, &next, render(StatusCode::FORBIDDEN, &page, csrf_cookie)).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

fn passkeys(state: &AppState) -> Result<(), &'static str> {
    state.two_factor.passkeys.as_ref().map(drop).ok_or(crate::auth::factors::webauthn::NEEDS_A_HOST_NAME)
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
    status: StatusCode,
    next: Option<&str>,
    email: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(req, state, identity);
    let next = safe_next(next, &state.cors_origins).to_owned();
    let providers = provider_links(state, &next).await;
    let page = LoginPage {
        layout,
        next,
        email,
        notice: None,
        error,
        unverified: false,
        passkeys: passkeys(state),
        providers,
    };
    let next = page.next.clone();
    sign_in_page(state, &next, render(status, &page, csrf_cookie)).await
}

/// The second step: the password was right and TOTP is on.
#[derive(Template)]
#[template(path = "pages/login_code.html")]
pub struct LoginCodePage {
    layout: Layout,
    mfa_token: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    mfa_token: String,
    code: SecretString,
    next: Option<String>,
}

/// Finishes a sign-in with a code: the session the password step would have opened.
pub async fn login_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let identity = user.0.as_ref();
    let next = safe_next(form.next.as_deref(), &state.cors_origins).to_owned();
    let sealer = &state.two_factor.sealer;
    match mfa::complete(&state.sessions, sealer, &state.throttle, &form.mfa_token, &form.code, &client).await
    {
        Ok(done) => Ok(see_other(&next, session_cookies(&state.cookies, &state.csrf, &done.signed))),
        Err(MfaError::WrongCode { attempts_left }) if attempts_left > 0 => {
            let error = ApiError::InvalidCode { attempts_left }.to_string_for_people();
            code_form(&req, &state, identity, StatusCode::UNAUTHORIZED, form.mfa_token, next, Some(error))
                .await
        }
        Err(MfaError::WrongCode { .. } | MfaError::InvalidToken) => {
            let error = ApiError::InvalidMfaToken.to_string_for_people();
            show(&req, &state, identity, StatusCode::UNAUTHORIZED, Some(&next), String::new(), Some(error))
                .await
        }
        Err(MfaError::Throttled { retry_after_secs }) => {
            let error = format!("Too many wrong codes. Try again in {retry_after_secs} seconds.");
            let mut res = code_form(
                &req,
                &state,
                identity,
                StatusCode::TOO_MANY_REQUESTS,
                form.mfa_token,
                next,
                Some(error),
            )
            .await?;
            let value = actix_web::http::header::HeaderValue::from(retry_after_secs);
            res.headers_mut().insert(actix_web::http::header::RETRY_AFTER, value);
            Ok(res)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

pub(super) async fn code_form(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
    status: StatusCode,
    mfa_token: String,
    next: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(req, state, identity);
    let page = LoginCodePage { layout, mfa_token, next, error };
    sign_in_page(state, &page.next, render(status, &page, csrf_cookie)).await
}
