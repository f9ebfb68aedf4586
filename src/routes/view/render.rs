//! Turning a page into a response: one render helper (template errors become a logged 500)
//! and the 303 redirect every form ends with.

use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use askama::Template;

use crate::errors::PageError;

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
