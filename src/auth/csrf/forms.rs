//! Tokens in pages and forms: the token a page embeds, the check a form post must pass, and
//! the cookies a new session starts with.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;

use super::token::CsrfKey;
use crate::auth::cookies::{self, CookiePolicy, CookieValue};
use crate::auth::extract::Identity;
use crate::auth::sessions::SignedIn;
use crate::errors::PageError;

/// The one sentence a person sees when a form's token does not check out (typically a
/// page left open across a sign-in or sign-out).
pub const FORM_EXPIRED: &str = "This form has expired. Go back, reload the page and try again.";

/// A form whose only field is the CSRF token (sign-out and revoke buttons).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// The token a page embeds in its forms: the browser's own when it is valid for `session_id`,
/// else a new one together with the cookie that carries it.
pub fn token_for(
    req: &HttpRequest,
    key: &CsrfKey,
    policy: &CookiePolicy,
    session_id: &str,
) -> (String, Option<Cookie<'static>>) {
    match cookies::read(req, policy.csrf) {
        CookieValue::One(token) if key.is_valid(token, session_id) => (token.to_owned(), None),
        _ => {
            let token = key.issue(session_id);
            let cookie = policy.csrf_cookie(&token);
            (token, Some(cookie))
        }
    }
}

/// Whether a submitted form token passes the double-submit check for this request.
pub fn form_ok(
    req: &HttpRequest,
    key: &CsrfKey,
    policy: &CookiePolicy,
    identity: Option<&Identity>,
    submitted: &str,
) -> bool {
    key.accepts(&cookies::read(req, policy.csrf), submitted, csrf_binding(identity))
}

/// [`form_ok`] for a state-changing form, as a 403 page when it fails.
pub fn require_form(
    req: &HttpRequest,
    key: &CsrfKey,
    policy: &CookiePolicy,
    identity: Option<&Identity>,
    submitted: &str,
) -> Result<(), PageError> {
    if form_ok(req, key, policy, identity, submitted) {
        Ok(())
    } else {
        Err(PageError::new(StatusCode::FORBIDDEN, "Form expired", FORM_EXPIRED))
    }
}

/// CSRF tokens are bound to the session when there is one, else to the empty string.
pub fn csrf_binding(identity: Option<&Identity>) -> &str {
    identity.map_or("", |i| i.session_id.as_str())
}

/// The cookies a new session sets: access, refresh, and a CSRF token bound to it.
pub fn session_cookies(policy: &CookiePolicy, key: &CsrfKey, signed: &SignedIn) -> [Cookie<'static>; 3] {
    let [access, refresh] = policy.pair(&signed.access.token, &signed.refresh.token, signed.cookie_max_age);
    [access, refresh, policy.csrf_cookie(&key.issue(&signed.session.id))]
}
