//! The one place errors become responses: JSON for `/api`, an HTML page for the rest.

mod shaping;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::db::StoreError;

pub use shaping::{form_error, json_error, shape_bare_errors};

/// The one answer to every credential failure: unknown email, wrong password, disabled.
pub const BAD_CREDENTIALS: &str = "That email and password do not match an account.";

/// An error a handler returns; the client sees `{"error": code, "message": text}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized { invalid_token: bool },
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    CsrfFailed(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    BadRequest { status: StatusCode, code: &'static str, message: String },
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: &'a str,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: message.into() }
    }

    fn code_and_message(&self) -> (&str, String) {
        match self {
            Self::Unauthorized { invalid_token: true } => (
                "invalid_token",
                "Your session has expired or is no longer valid. Please sign in again.".into(),
            ),
            Self::Unauthorized { invalid_token: false } => {
                ("unauthorized", "Please sign in to continue.".into())
            }
            Self::InvalidCredentials => ("invalid_credentials", BAD_CREDENTIALS.into()),
            Self::Forbidden(message) => ("forbidden", (*message).into()),
            Self::CsrfFailed(message) => ("csrf_failed", (*message).into()),
            Self::NotFound => ("not_found", "There is nothing here.".into()),
            Self::BadRequest { code, message, .. } => (code, message.clone()),
            Self::TooManyRequests { retry_after_secs } => (
                "too_many_requests",
                format!("Too many failed attempts. Try again in {retry_after_secs} seconds."),
            ),
            Self::Unavailable => {
                ("service_unavailable", "The service is temporarily unavailable. Try again shortly.".into())
            }
            Self::Unexpected(_) => ("internal_error", "Something went wrong on our side.".into()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                log::error!("database unavailable: {reason}");
                Self::Unavailable
            }
            StoreError::Query(e) => Self::Unexpected(anyhow::Error::new(e).context("database query")),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::Unexpected(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized { .. } | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::CsrfFailed(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest { status, .. } => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(e) = self {
            log::error!("request failed: {e:#}");
        }
        let (code, message) = self.code_and_message();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::InvalidCredentials => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="portcullis""#));
            }
            Self::Unauthorized { invalid_token } => {
                let challenge = if *invalid_token {
                    r#"Bearer realm="portcullis", error="invalid_token""#
                } else {
                    r#"Bearer realm="portcullis""#
                };
                res.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.json(ErrorBody { error: code, message: &message })
    }
}

/// An error shown as a page: status, a title and a sentence for a person.
#[derive(Debug, thiserror::Error)]
#[error("{title}")]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self { status, title, message: message.into() }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Page not found", "There is nothing at this address.")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", "Your account does not have access to this page.")
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Unexpected(inner) = &e {
            log::error!("page request failed: {inner:#}");
        }
        let (_, message) = e.code_and_message();
        let title = match e.status_code() {
            StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
            StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Page not found",
            _ => "That request could not be handled",
        };
        Self::new(e.status_code(), title, message)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let page = ErrorPage { title: self.title, message: &self.message, status: self.status.as_u16() };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)
    }
}

/// Which kind of route a request matched: it decides the shape of every answer and which
/// CSRF rules apply. Set by the scope the router chose (see `routes::configure`), never
/// guessed from the raw path: `/%61pi/…` is routed as `/api/…` and must be treated as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Api,
    Page,
}

impl RouteKind {
    /// The kind the matched scope recorded; a request outside every scope (static files,
    /// probes) is answered like a page.
    pub fn of(req: &HttpRequest) -> Self {
        req.extensions().get::<RouteKind>().copied().unwrap_or(RouteKind::Page)
    }
}

/// Scope middleware: everything under this scope is the JSON API.
pub async fn mark_api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Api);
    next.call(req).await
}

/// Scope middleware: everything under this scope is a server-rendered page.
pub async fn mark_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Page);
    next.call(req).await
}

/// Whether a request is answered in JSON (the API) rather than HTML (the pages).
pub fn wants_json(req: &HttpRequest) -> bool {
    RouteKind::of(req) == RouteKind::Api
}

/// Turns an error into the right shape for the path it happened on.
pub fn for_request(req: &HttpRequest, e: ApiError) -> actix_web::Error {
    if wants_json(req) { e.into() } else { PageError::from(e).into() }
}
