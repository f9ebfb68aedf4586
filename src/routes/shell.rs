//! A host app's page inside Portcullis's layout, at run time: Askama resolves `{% extends %}`
//! inside one crate, so an app built against the published crate cannot extend `base.html`;
//! it renders its own body and hands it to [`PageShell`], which adds the navigation (who is
//! signed in, the admin link, sign out), the stylesheet and a CSRF token for its forms.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;

use super::view::layout::{Layout, NavLink, layout};
use crate::auth::Identity;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "shell.html")]
struct ShellPage<'a> {
    layout: Layout,
    title: &'a str,
    body: &'a str,
}

/// A page of a host app in Portcullis's layout.
///
/// Build it for the request, put [`PageShell::csrf_token`] into every form the page has (as the
/// field `csrf_token`: the page policy checks it on every unsafe request), render the body
/// yourself — with Askama or anything that escapes what people typed — and let
/// [`PageShell::render`] wrap it.
pub struct PageShell {
    layout: Layout,
    cookie: Option<Cookie<'static>>,
}

impl PageShell {
    /// The shell for this request: the person the guard identified, if any, and a CSRF token
    /// bound to their session (a fresh cookie goes out with the page when the browser has
    /// none that is valid).
    pub fn new(req: &HttpRequest) -> Self {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            log::error!("a page shell was asked for on an app that has not mounted Portcullis");
            return Self { layout: Layout::default(), cookie: None };
        };
        let identity = req.extensions().get::<Identity>().cloned();
        let (layout, cookie) = layout(req, state, identity.as_ref());
        Self { layout, cookie }
    }

    /// The token every form of the page carries as `csrf_token`.
    pub fn csrf_token(&self) -> &str {
        &self.layout.csrf_token
    }

    /// Adds a link to the navigation, before Portcullis's own.
    #[must_use]
    pub fn link(mut self, label: &str, href: &str) -> Self {
        self.layout.links.push(NavLink { label: label.to_owned(), href: href.to_owned() });
        self
    }

    /// The page: `body` (HTML, already escaped where it holds what people typed) inside the
    /// layout, under `title`. Never cached: pages are per person.
    pub fn render(self, status: StatusCode, title: &str, body: &str) -> HttpResponse {
        let page = ShellPage { layout: self.layout, title, body };
        match page.render() {
            Ok(html) => {
                let mut res = HttpResponse::build(status);
                res.content_type("text/html; charset=utf-8");
                res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
                if let Some(cookie) = self.cookie {
                    res.cookie(cookie);
                }
                res.body(html)
            }
            Err(e) => {
                log::error!(error:% = e; "a page shell did not render");
                HttpResponse::InternalServerError().finish()
            }
        }
    }
}
