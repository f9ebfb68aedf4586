//! Signed double-submit CSRF tokens (OWASP CSRF cheat sheet): `nonce.mac`, where the mac
//! is HMAC(server key, nonce | session id). The same token sits in a cookie and in the
//! form field or `X-CSRF-Token` header; a cross-site page can neither read the cookie nor
//! mint a token that verifies for the victim's session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;

use super::cookies::{self, CookiePolicy, CookieValue};
use super::extract::Identity;
use super::keys::hmac_sha256;
use super::sessions::SignedIn;
use crate::errors::PageError;

pub struct CsrfKey(SecretSlice<u8>);

impl CsrfKey {
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self(key)
    }

    /// A new token bound to `session_id` (empty before sign-in).
    pub fn issue(&self, session_id: &str) -> String {
        let mut nonce = [0u8; 18];
        rand::fill(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self.mac(&nonce, session_id);
        format!("{nonce}.{mac}")
    }

    /// Whether `token` was minted by this server for `session_id`.
    pub fn is_valid(&self, token: &str, session_id: &str) -> bool {
        match token.split_once('.') {
            Some((nonce, mac)) if nonce.len() <= 64 => {
                constant_time_eq(mac.as_bytes(), self.mac(nonce, session_id).as_bytes())
            }
            _ => false,
        }
    }

    /// The double-submit check: the submitted token equals the cookie and verifies.
    pub fn accepts(&self, cookie: &CookieValue<'_>, submitted: &str, session_id: &str) -> bool {
        match cookie {
            CookieValue::One(c) => {
                constant_time_eq(c.as_bytes(), submitted.as_bytes()) && self.is_valid(c, session_id)
            }
            _ => false,
        }
    }

    fn mac(&self, nonce: &str, session_id: &str) -> String {
        let message = format!("{nonce}|{session_id}");
        URL_SAFE_NO_PAD.encode(hmac_sha256(self.0.expose_secret(), message.as_bytes()))
    }
}

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
    identity.map_or("", |i| i.session.id.as_str())
}

/// The cookies a new session sets: access, refresh, and a CSRF token bound to it.
pub fn session_cookies(policy: &CookiePolicy, key: &CsrfKey, signed: &SignedIn) -> [Cookie<'static>; 3] {
    let [access, refresh] = policy.pair(&signed.access.token, &signed.refresh.token, signed.cookie_max_age);
    [access, refresh, policy.csrf_cookie(&key.issue(&signed.session_id))]
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> CsrfKey {
        CsrfKey::new(SecretSlice::from(vec![byte; 32]))
    }

    #[test]
    fn a_token_verifies_only_for_its_session_and_key() {
        let token = key(1).issue("s1");
        assert!(key(1).is_valid(&token, "s1"));
        assert!(!key(1).is_valid(&token, "s2"));
        assert!(!key(2).is_valid(&token, "s1"));
        assert!(!key(1).is_valid("forged.token", "s1"));
    }

    #[test]
    fn double_submit_needs_cookie_and_field_to_match() {
        let k = key(1);
        let token = k.issue("");
        assert!(k.accepts(&CookieValue::One(&token), &token, ""));
        assert!(!k.accepts(&CookieValue::One(&token), "", ""));
        assert!(!k.accepts(&CookieValue::Absent, &token, ""));
        assert!(!k.accepts(&CookieValue::Ambiguous, &token, ""));
        let other = k.issue("");
        assert!(!k.accepts(&CookieValue::One(&token), &other, ""));
    }
}

/// Which checks an unsafe request must pass before any handler runs (SPEC §5).
pub mod guard {
    use actix_web::body::{BoxBody, MessageBody};
    use actix_web::dev::{ServiceRequest, ServiceResponse};
    use actix_web::http::{Method, header};
    use actix_web::middleware::Next;
    use actix_web::{HttpMessage, HttpRequest, web};

    use super::CsrfKey;
    use crate::auth::cookies::{self, CookiePolicy, CookieValue};
    use crate::auth::extract::{Identity, Via};
    use crate::auth::sessions::Sessions;
    use crate::auth::tokens::TokenKind;
    use crate::config::PublicUrl;
    use crate::errors::{self, ApiError};

    /// What the checks read, each registered as its own `web::Data` at startup.
    struct Ctx {
        key: web::Data<CsrfKey>,
        cookies: web::Data<CookiePolicy>,
        sessions: web::Data<Sessions>,
        public_url: web::Data<PublicUrl>,
    }

    impl Ctx {
        fn of(req: &HttpRequest) -> Option<Self> {
            Some(Self {
                key: req.app_data::<web::Data<CsrfKey>>()?.clone(),
                cookies: req.app_data::<web::Data<CookiePolicy>>()?.clone(),
                sessions: req.app_data::<web::Data<Sessions>>()?.clone(),
                public_url: req.app_data::<web::Data<PublicUrl>>()?.clone(),
            })
        }
    }

    pub const HEADER: &str = "x-csrf-token";

    const FOREIGN: &str = "This request came from another site and was refused.";

    /// Scope middleware for every scope with unsafe routes: refuses an unsafe request whose
    /// `Origin` is foreign (or `null`) or whose `Sec-Fetch-Site` says cross-site. Page forms
    /// check their `csrf_token` field in the handler (the body is theirs to read); the API's
    /// cookie-session routes add [`require_header`].
    pub async fn check_origin(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        if is_unsafe(&req)
            && !is_bearer_only(req.request())
            && let Some(ctx) = Ctx::of(req.request())
            && !same_site(req.request(), &ctx)
        {
            let error = errors::for_request(req.request(), ApiError::CsrfFailed(FOREIGN));
            return Ok(req.error_response(error));
        }
        next.call(req).await.map(ServiceResponse::map_into_boxed_body)
    }

    /// Scope middleware for the API routes that act on a cookie session: an unsafe request
    /// that carries an auth cookie needs `X-CSRF-Token` equal to the CSRF cookie and bound
    /// to the session (signed double-submit).
    pub async fn require_header(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        if is_unsafe(&req)
            && !is_bearer_only(req.request())
            && let Some(ctx) = Ctx::of(req.request())
            && let Err(message) = check_header(req.request(), &ctx)
        {
            let error = errors::for_request(req.request(), ApiError::CsrfFailed(message));
            return Ok(req.error_response(error));
        }
        next.call(req).await.map(ServiceResponse::map_into_boxed_body)
    }

    fn is_unsafe(req: &ServiceRequest) -> bool {
        !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// Exempt: a request the guard authenticated by a valid Bearer token and that carries no
    /// auth cookie. A browser never attaches `Authorization` on its own, but any other
    /// `Authorization` header (a bogus one next to the victim's cookies) exempts nothing.
    fn is_bearer_only(req: &HttpRequest) -> bool {
        let by_bearer = req.extensions().get::<Identity>().is_some_and(|i| i.via == Via::Bearer);
        let Some(policy) = req.app_data::<web::Data<CookiePolicy>>() else { return false };
        by_bearer && !has_session_cookie(req, policy)
    }

    fn has_session_cookie(req: &HttpRequest, policy: &CookiePolicy) -> bool {
        [policy.access, policy.refresh].iter().any(|name| cookies::read(req, name) != CookieValue::Absent)
    }

    fn same_site(req: &HttpRequest, ctx: &Ctx) -> bool {
        if let Some(origin) = req.headers().get(header::ORIGIN)
            && !origin.to_str().is_ok_and(|o| is_own_origin(o, req, &ctx.public_url))
        {
            return false;
        }
        !req.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    }

    fn check_header(req: &HttpRequest, ctx: &Ctx) -> Result<(), &'static str> {
        if !has_session_cookie(req, &ctx.cookies) {
            return Ok(());
        }
        let submitted = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let cookie = cookies::read(req, ctx.cookies.csrf);
        if ctx.key.accepts(&cookie, submitted, &binding(req, ctx)) {
            Ok(())
        } else {
            Err("Send the csrf_token cookie's value in the X-CSRF-Token header.")
        }
    }

    /// The configured public origin, or the origin the browser addressed (its `Host`):
    /// a cross-site page cannot make a browser send a foreign `Origin` with our `Host`.
    fn is_own_origin(origin: &str, req: &HttpRequest, public_url: &PublicUrl) -> bool {
        if origin.eq_ignore_ascii_case(public_url.as_str()) {
            return true;
        }
        let scheme = if public_url.is_https() { "https://" } else { "http://" };
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        match (origin.strip_prefix(scheme), host) {
            (Some(rest), Some(host)) => rest.eq_ignore_ascii_case(host),
            _ => false,
        }
    }

    /// The session the token must be bound to: the identified one, else the one the
    /// refresh cookie names (an expired access token is no reason to refuse a refresh).
    fn binding(req: &HttpRequest, ctx: &Ctx) -> String {
        if let Some(identity) = req.extensions().get::<Identity>() {
            return identity.session.id.clone();
        }
        match cookies::read(req, ctx.cookies.refresh) {
            CookieValue::One(token) => ctx
                .sessions
                .keys
                .decode(token, TokenKind::Refresh, crate::db::now())
                .map(|c| c.sid)
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}
