//! Tokens in pages and forms: the token a page embeds, the session it is bound to, and the
//! cookies a new session starts with.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;

use crate::auth::session::sign_in::SignedIn;
use crate::auth::web::cookies::{self, CookiePolicy, CookieValue};
use crate::auth::web::csrf::CsrfKey;
use crate::auth::web::extract::acting_session;

pub use crate::errors::FORM_EXPIRED;

/// The session id CSRF tokens of this request are bound to: the signed-in session, else the
/// one the refresh cookie names (an expired access token changes nothing), else none.
pub fn binding(req: &HttpRequest) -> String {
    acting_session(req).map(|s| s.session_id.to_string()).unwrap_or_default()
}

/// The token a page embeds in its forms (or `GET /api/auth/csrf` hands out): the browser's
/// own when it is valid for this request's session, else a new one together with the cookie
/// that carries it.
pub fn token_for(
    req: &HttpRequest,
    key: &CsrfKey,
    policy: &CookiePolicy,
) -> (String, Option<Cookie<'static>>) {
    let session = binding(req);
    match cookies::read(req, policy.csrf) {
        CookieValue::One(token) if key.is_valid(token, &session) => (token.to_owned(), None),
        _ => {
            let token = key.issue(&session);
            let cookie = policy.csrf_cookie(&token);
            (token, Some(cookie))
        }
    }
}

/// The cookies a new session sets: access, refresh, a CSRF token bound to it, and the device
/// cookie of a password sign-in.
pub fn session_cookies(policy: &CookiePolicy, key: &CsrfKey, signed: &SignedIn) -> Vec<Cookie<'static>> {
    let mut cookies =
        policy.pair(&signed.access.token, &signed.refresh.token, signed.cookie_max_age).to_vec();
    cookies.push(policy.csrf_cookie(&key.issue(signed.session.id.as_str())));
    if let Some(device) = &signed.device {
        cookies.push(policy.device_cookie(device));
    }
    cookies
}
