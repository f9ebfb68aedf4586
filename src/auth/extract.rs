//! Extractors: handlers ask for `CurrentUser` (or `MaybeUser`); the guard has already
//! put the identity, if any, into the request extensions.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::db::models::{Session, User};
use crate::domain::{Role, SessionId, UserId};
use crate::errors::{ApiError, PageError, wants_json};

/// How the credential arrived. Bearer-only requests are exempt from CSRF checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Cookie,
}

/// A verified caller: who they are and how the credential arrived. No database row and no
/// password hash travel with a request; what a handler needs beyond this, it loads.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub email: String,
    pub role: Role,
    /// When the account was created (Unix seconds).
    pub member_since: i64,
    pub via: Via,
}

impl Identity {
    /// The identity of a live session of an enabled user, as the guard verified them. Takes
    /// the rows by value: the guard is done with them, and this runs on every request.
    pub fn new(user: User, session: Session, via: Via) -> Self {
        Self {
            user_id: UserId::from(user.id),
            session_id: SessionId::from(session.id),
            email: user.email,
            role: user.role,
            member_since: user.created_at,
            via,
        }
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
        let identity = req.extensions().get::<Identity>().cloned();
        ready(identity.map(CurrentUser).ok_or_else(|| sign_in_required(req)))
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

impl FromRequest for RequireAdmin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let identity = req.extensions().get::<Identity>().cloned();
        ready(match identity {
            Some(identity) if identity.role == Role::Admin => Ok(RequireAdmin(identity)),
            Some(_) if wants_json(req) => {
                Err(ApiError::Forbidden("This needs an administrator account.").into())
            }
            Some(_) => Err(PageError::forbidden().into()),
            None => Err(sign_in_required(req)),
        })
    }
}

fn sign_in_required(req: &HttpRequest) -> actix_web::Error {
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
