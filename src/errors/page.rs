//! `PageError`: an error page for a person, with a status, a title and a sentence.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::api::ApiError;
use crate::db::StoreError;

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
