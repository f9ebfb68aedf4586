//! `PageError`: an error page for a person, with a status, a title and a sentence.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::api::ApiError;
use crate::db::StoreError;

/// The one sentence a person sees when a form's CSRF token does not check out (typically a
/// page left open across a sign-in or sign-out).
pub const FORM_EXPIRED: &str = "This form has expired. Go back, reload the page and try again.";

/// An error shown as a page: status, a title and a sentence for a person.
#[derive(Debug, thiserror::Error)]
#[error("{title}")]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (429, 503).
    pub retry_after_secs: Option<u64>,
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
        Self { status, title, message: message.into(), retry_after_secs: None }
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
            log::error!(error:% = format!("{inner:#}"); "page request failed");
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
        let retry_after_secs = match e {
            ApiError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            ApiError::Busy => Some(1),
            _ => None,
        };
        Self { retry_after_secs, ..Self::new(e.status_code(), title, message) }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let page = ErrorPage { title: self.title, message: &self.message, status: self.status.as_u16() };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(body)
    }
}
