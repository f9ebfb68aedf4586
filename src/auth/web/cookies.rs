//! The ONE place auth cookies are named, built and read.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::session::device::DEVICE_COOKIE_DAYS;

/// Cookie names and attributes for this deployment. Over https every cookie is `Secure`
/// and `__Host-` prefixed, which browsers only accept from a secure origin, for path `/`,
/// with no `Domain`: a sibling subdomain cannot plant or overwrite them.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub secure: bool,
    pub access: &'static str,
    pub refresh: &'static str,
    pub csrf: &'static str,
    /// The device cookie (`auth::device`): which account this browser signed in to before.
    pub device: &'static str,
    /// Binds a sign-in through another provider to the browser that began it (SPEC §13).
    pub upstream: &'static str,
}

/// What a request's `Cookie` header holds under one exact name.
#[derive(Debug, PartialEq, Eq)]
pub enum CookieValue<'a> {
    Absent,
    One(&'a str),
    /// The same name twice: someone planted a second cookie; trust neither.
    Ambiguous,
}

impl CookiePolicy {
    pub fn new(secure: bool) -> Self {
        if secure {
            Self {
                secure,
                access: "__Host-access_token",
                refresh: "__Host-refresh_token",
                csrf: "__Host-csrf_token",
                device: "__Host-device",
                upstream: "__Host-upstream_login",
            }
        } else {
            Self {
                secure,
                access: "access_token",
                refresh: "refresh_token",
                csrf: "csrf_token",
                device: "device",
                upstream: "upstream_login",
            }
        }
    }

    /// `max_age` is `Some` for "remember me" (persistent) and `None` for a cookie that
    /// ends with the browser session.
    fn access_cookie(&self, token: &SecretString, max_age: Option<i64>) -> Cookie<'static> {
        self.http_only(self.access, token.expose_secret().to_owned(), max_age)
    }

    fn refresh_cookie(&self, token: &SecretString, max_age: Option<i64>) -> Cookie<'static> {
        self.http_only(self.refresh, token.expose_secret().to_owned(), max_age)
    }

    /// The access and refresh cookies of one token pair: the one place the pair is built.
    pub fn pair(
        &self,
        access: &SecretString,
        refresh: &SecretString,
        max_age: Option<i64>,
    ) -> [Cookie<'static>; 2] {
        [self.access_cookie(access, max_age), self.refresh_cookie(refresh, max_age)]
    }

    /// Readable by scripts on purpose: JSON clients copy it into `X-CSRF-Token`.
    pub fn csrf_cookie(&self, token: &str) -> Cookie<'static> {
        Cookie::build(self.csrf, token.to_owned())
            .path("/")
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish()
    }

    /// Kept across sign-outs on purpose: it says only that this browser signed in before.
    /// `SameSite=Strict`: it is needed on sign-in posts from the site itself, nowhere else.
    pub fn device_cookie(&self, value: &str) -> Cookie<'static> {
        let mut cookie = self.http_only(self.device, value.to_owned(), Some(DEVICE_COOKIE_DAYS * 86_400));
        cookie.set_same_site(SameSite::Strict);
        cookie
    }

    /// Removal cookies for both auth tokens.
    /// The cookie that binds a sign-in through a provider to this browser: `Lax`, so the
    /// provider's redirect back (a top-level GET from another site) carries it; ten minutes.
    pub fn upstream_cookie(&self, value: String) -> Cookie<'static> {
        self.http_only(self.upstream, value, Some(600))
    }

    /// Removes [`CookiePolicy::upstream_cookie`] once its sign-in is over.
    pub fn upstream_cleared(&self) -> Cookie<'static> {
        self.http_only(self.upstream, String::new(), Some(0))
    }

    pub fn cleared(&self) -> [Cookie<'static>; 2] {
        [
            self.http_only(self.access, String::new(), Some(0)),
            self.http_only(self.refresh, String::new(), Some(0)),
        ]
    }

    fn http_only(&self, name: &'static str, value: String, max_age: Option<i64>) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        if let Some(secs) = max_age {
            cookie.set_max_age(CookieDuration::seconds(secs));
        }
        cookie
    }
}

/// [`read`], for a value that must outlive the request: one cookie of that name, else none.
pub fn read_owned(req: &HttpRequest, name: &str) -> Option<String> {
    match read(req, name) {
        CookieValue::One(value) => Some(value.to_owned()),
        _ => None,
    }
}

/// Reads a cookie by its exact name from the raw header. actix's own parser
/// percent-decodes names, which would let `access%5Ftoken` pose as `access_token`.
pub fn read<'a>(req: &'a HttpRequest, name: &str) -> CookieValue<'a> {
    let mut found = CookieValue::Absent;
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if k == name {
                if found != CookieValue::Absent {
                    return CookieValue::Ambiguous;
                }
                found = CookieValue::One(v.trim_matches('"'));
            }
        }
    }
    found
}
