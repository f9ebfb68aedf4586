//! Extractors: handlers ask for `CurrentUser` (or `MaybeUser`); the guard has already
//! put the identity, if any, into the request extensions.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::auth::identity::{Actor, Identity, SessionRef, Via};
use crate::auth::provider::app_token::AppCaller;
use crate::domain::{Role, UserId};
use crate::errors::{ApiError, FORM_EXPIRED, PageError, for_request, wants_json};

/// The session a request's refresh cookie names, when its access token is missing or has
/// expired (set by the guard; SPEC §5: logout, CSRF tokens and the refresh itself bind to it).
#[derive(Debug, Clone)]
pub struct RefreshCookieSession(pub SessionRef);

/// Set once the request passed the CSRF check of its route (form field or header).
#[derive(Debug, Clone, Copy)]
pub struct CsrfChecked;

/// The session this request acts for: the identified one, else the one its refresh cookie
/// names. CSRF tokens are bound to it.
pub fn acting_session(req: &HttpRequest) -> Option<SessionRef> {
    let ext = req.extensions();
    match ext.get::<Identity>() {
        Some(identity) => Some(identity.session()),
        None => ext.get::<RefreshCookieSession>().map(|s| s.0.clone()),
    }
}

/// [`acting_session`] as an extractor (sign-out); never fails.
#[derive(Debug, Clone)]
pub struct ActingSession(pub Option<SessionRef>);

impl FromRequest for ActingSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ActingSession(acting_session(req))))
    }
}

/// Marks a request that presented a credential which did not hold up.
#[derive(Debug, Clone, Copy)]
pub struct RejectedCredential;

/// The signed-in caller, or a 401 (API) / 303 to the login page (pages).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Identity);

/// The signed-in caller if there is one; never fails.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Identity>);

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req).map(CurrentUser))
    }
}

impl FromRequest for MaybeUser {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(MaybeUser(req.extensions().get::<Identity>().cloned())))
    }
}

/// A signed-in admin, or 403 (a page for pages, JSON for the API) for anyone else.
#[derive(Debug, Clone)]
pub struct RequireAdmin(pub Identity);

impl RequireAdmin {
    /// This administrator, as the events of their actions name them.
    pub fn actor(&self) -> Actor<'_> {
        Actor::Admin { id: &self.0.user_id, email: &self.0.email }
    }
}

impl FromRequest for RequireAdmin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match signed_in(req) {
            Ok(identity) if identity.role == Role::Admin => Ok(RequireAdmin(identity)),
            Ok(_) if wants_json(req) => {
                Err(ApiError::Forbidden("This needs an administrator account.").into())
            }
            Ok(_) => Err(PageError::forbidden().into()),
            Err(e) => Err(e),
        })
    }
}

/// The identity, for a handler that acts on it. Fails closed: an unsafe request on a cookie
/// session that no CSRF check has passed is refused, so a route mounted without its scope's
/// CSRF policy cannot be forged.
fn signed_in(req: &HttpRequest) -> Result<Identity, actix_web::Error> {
    let ext = req.extensions();
    let identity = ext.get::<Identity>().cloned().ok_or_else(|| sign_in_required(req))?;
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && identity.via == Via::Cookie && ext.get::<CsrfChecked>().is_none() {
        let route = req.match_pattern().unwrap_or_default();
        log::error!(route = route.as_str(); "a route acts on a cookie session without a CSRF check");
        return Err(for_request(req, ApiError::CsrfFailed(FORM_EXPIRED)));
    }
    Ok(identity)
}

fn sign_in_required(req: &HttpRequest) -> actix_web::Error {
    // An app's token never stands in for the person's own sign-in (SPEC §11).
    if req.extensions().get::<AppCaller>().is_some() {
        return if wants_json(req) {
            ApiError::InsufficientScope.into()
        } else {
            PageError::forbidden().into()
        };
    }
    if wants_json(req) {
        let invalid_token = req.extensions().get::<RejectedCredential>().is_some();
        return ApiError::Unauthorized { invalid_token }.into();
    }
    let original = match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => req.path().to_owned(),
    };
    LoginRedirect(login_url(&original)).into()
}

/// `/login?next=<original path and query>`, percent-encoded.
pub fn login_url(next: &str) -> String {
    match serde_urlencoded::to_string([("next", next)]) {
        Ok(query) => format!("/login?{query}"),
        Err(_) => "/login".to_owned(),
    }
}

/// 303 See Other to the login page, carrying the page the person wanted.
#[derive(Debug, thiserror::Error)]
#[error("sign-in required")]
pub struct LoginRedirect(String);

impl ResponseError for LoginRedirect {
    fn status_code(&self) -> StatusCode {
        StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, self.0.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    }
}

/// An app's access token (OpenID Connect, SPEC §11), for a handler that opts in to serving the
/// apps people signed in to through Portcullis: which app, with which scopes, for whom. It is
/// checked afresh at every request (a revoked grant or a changed password ends it at once).
/// Anything else — the person's own session included — is refused with 401 `invalid_token`;
/// and everywhere else ([`CurrentUser`] and the rest) an app token is refused with 403
/// `insufficient_scope`, so signing in to an app never hands it the account.
#[derive(Debug, Clone)]
pub struct AppToken(AppCaller);

impl AppToken {
    /// The app the token was issued to (its client id).
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// Whether the person granted the app `scope` (`openid`, `profile`, `email`,
    /// `offline_access`).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.has(scope)
    }

    /// The person the app acts for; `None` for a token an app got for itself
    /// (`client_credentials`).
    pub fn user_id(&self) -> Option<&UserId> {
        self.0.user.as_ref().map(|u| &u.user_id)
    }

    /// The person's address as it is now, if the person granted the `email` scope.
    pub fn email(&self) -> Option<&str> {
        self.0.user.as_ref().filter(|_| self.has_scope("email")).map(|u| u.email.as_str())
    }
}

impl FromRequest for AppToken {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<AppCaller>() {
            Some(app) => Ok(AppToken(app.clone())),
            None => Err(ApiError::Unauthorized { invalid_token: true }.into()),
        })
    }
}
