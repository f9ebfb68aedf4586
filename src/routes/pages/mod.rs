//! Server-rendered pages. Each page is a `<Name>Page` template struct next to its handler.

mod account;
mod account_actions;
mod admin_users;
mod home;
mod login;
mod logout;
mod register;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::Identity;
use crate::auth::cookies;
use crate::auth::csrf::csrf_binding;
use crate::errors::PageError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(home::home_page))
        .service(web::resource("/login").get(login::login_page).post(login::login))
        .service(web::resource("/register").get(register::register_page).post(register::register))
        .service(web::resource("/logout").post(logout::logout))
        .service(web::resource("/account").get(account::account_page))
        .service(web::resource("/account/password").post(account_actions::change_password))
        .service(
            web::resource("/account/sessions/revoke-others").post(account_actions::revoke_other_sessions),
        )
        .service(web::resource("/account/sessions/{id}/revoke").post(account_actions::revoke_session))
        .service(web::resource("/admin/users").get(admin_users::admin_users_page))
        .service(web::resource("/admin/users/{id}/disable").post(admin_users::disable_user))
        .service(web::resource("/admin/users/{id}/enable").post(admin_users::enable_user));
}

/// What the base layout shows: who is signed in, and the CSRF token its forms carry.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub user_email: Option<String>,
    pub is_admin: bool,
    pub csrf_token: String,
}

/// The layout for this request, plus a fresh CSRF cookie when the browser has none
/// that is valid for its current session.
pub fn layout(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
) -> (Layout, Option<Cookie<'static>>) {
    let sid = csrf_binding(identity);
    let (csrf_token, cookie) = match cookies::read(req, state.cookies.csrf) {
        cookies::CookieValue::One(token) if state.csrf.is_valid(token, sid) => (token.to_owned(), None),
        _ => {
            let token = state.csrf.issue(sid);
            let cookie = state.cookies.csrf_cookie(&token);
            (token, Some(cookie))
        }
    };
    let layout = Layout {
        user_email: identity.map(|i| i.user.email.clone()),
        is_admin: identity.is_some_and(|i| i.role() == crate::domain::Role::Admin),
        csrf_token,
    };
    (layout, cookie)
}

/// A form whose only field is the CSRF token (sign-out and revoke buttons).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// What a person sees when a form's CSRF token does not check out (typically a page left
/// open across a sign-in or sign-out).
pub const FORM_EXPIRED: &str = "This form has expired. Go back, reload the page and try again.";

/// The double-submit check for a state-changing form, as a 403 page when it fails.
pub fn require_csrf(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
    submitted: &str,
) -> Result<(), PageError> {
    if csrf_ok(req, state, identity, submitted) {
        Ok(())
    } else {
        Err(crate::errors::ApiError::Forbidden(FORM_EXPIRED).into())
    }
}

/// Whether the submitted form token passes the double-submit check for this request.
pub fn csrf_ok(req: &HttpRequest, state: &AppState, identity: Option<&Identity>, submitted: &str) -> bool {
    state.csrf.accepts(&cookies::read(req, state.cookies.csrf), submitted, csrf_binding(identity))
}

/// Renders a page; a template failure becomes a logged 500.
pub fn render<T: Template>(
    status: StatusCode,
    page: &T,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|e| anyhow::Error::new(e).context("rendering a page"))?;
    let mut res = HttpResponse::build(status);
    res.content_type(ContentType::html());
    for cookie in cookies {
        res.cookie(cookie);
    }
    Ok(res.body(body))
}

/// 303 See Other to `location`, with cookies.
pub fn see_other(location: &str, cookies: impl IntoIterator<Item = Cookie<'static>>) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, location));
    for cookie in cookies {
        res.cookie(cookie);
    }
    res.finish()
}

/// Renders Unix seconds as a UTC date and time, e.g. "24 Nov 2026, 18:05 UTC".
pub fn human_time(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Renders Unix seconds as a date a person reads, e.g. "24 Nov 2026".
pub fn human_date(unix: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}
