//! # Portcullis: JWT authentication done right, for actix-web
//!
//! Sign-in pages, a JSON API for the same session, rotating refresh tokens in HttpOnly
//! cookies, argon2id passwords, CSRF protection, throttling, second factors, recovery over
//! email, a key ring with a JWKS and forward authentication — one crate. Run it on its own
//! (the `portcullis` binary), or add it to your own actix-web app: it mounts its pages and API
//! into your `App`, and your pages and API sit behind the same guard and extractors.
//!
//! ## Your app with Portcullis in it
//!
//! ```no_run
//! use actix_web::middleware::from_fn;
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use portcullis::{CurrentUser, PageShell, Portcullis, Settings};
//!
//! /// A page of yours: signed out, the page policy sends people to `/login?next=/hello`.
//! async fn hello(req: actix_web::HttpRequest, user: CurrentUser) -> HttpResponse {
//!     let shell = PageShell::new(&req).link("Hello", "/hello");
//!     let body = format!("<h1>Hello</h1><p>Your id is {}.</p>", user.0.user_id);
//!     shell.render(actix_web::http::StatusCode::OK, "Hello", &body)
//! }
//!
//! /// An API route of yours: signed out, 401 JSON; a cookie session's POSTs need `X-CSRF-Token`.
//! async fn whoami(user: CurrentUser) -> web::Json<String> {
//!     web::Json(user.0.email)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> anyhow::Result<()> {
//!     let settings = Settings::from_env()?; // the same PORTCULLIS_* variables as the binary
//!     portcullis::init_logging(settings.log_format);
//!     let (portcullis, listener) = Portcullis::bind(settings)?;
//!     let routes = portcullis.routes().without_home_page();
//!     let server = HttpServer::new(move || {
//!         App::new()
//!             .wrap(from_fn(portcullis::app_layer))
//!             .configure(|cfg| routes.mount(cfg))
//!             .service(web::resource("/").get(|| async { HttpResponse::Ok().body("Welcome") }))
//!             .service(web::resource("/hello").wrap(from_fn(portcullis::page_policy)).get(hello))
//!             .service(web::resource("/api/whoami").wrap(from_fn(portcullis::api_policy)).get(whoami))
//!     })
//!     .listen(listener)?
//!     .run();
//!     Ok(portcullis.run_until_stopped(server).await?)
//! }
//! ```
//!
//! - **Routes.** [`Routes::mount`] mounts every Portcullis route (`/login`, `/account`, `/api/…`,
//!   `/.well-known/…`, `/static/…`, the probes) each resource on its own: your routes sit beside
//!   them in any order, `/api/yours` beside Portcullis's `/api`, `/` yours with
//!   [`Routes::without_home_page`].
//! - **Policies.** Wrap your routes with [`page_policy`] (identify the caller, the Origin check,
//!   the `csrf_token` form field of every POST, a refresh in place when the access token ran out;
//!   errors as pages, signed out → 303 to `/login?next=…`) or [`api_policy`] (the same for JSON:
//!   `X-CSRF-Token` for a cookie session's unsafe requests, Bearer tokens exempt; errors as
//!   `{"error","message"}`, signed out → 401). Then ask for [`CurrentUser`], [`MaybeUser`] or
//!   [`RequireAdmin`]. `CurrentUser` fails closed: on a route you forgot to wrap, nobody is signed
//!   in, and an unsafe cookie request is refused.
//! - **The app-wide layer.** [`app_layer`] gives every answer of the app the security headers,
//!   a request id, a log line and the metrics, and shapes actix's own errors (405, 413).
//! - **Pages in Portcullis's layout.** [`PageShell`] wraps the HTML you render (with Askama or
//!   anything that escapes what people typed) in the navigation and stylesheet, and hands you
//!   the CSRF token for your forms.
//! - **Your tables.** [`Portcullis::pool`] is the database Portcullis uses; [`Portcullis::migrate`]
//!   applies your migrations after Portcullis's. Reference `users (id)` with
//!   `ON DELETE CASCADE`: deleting an account (its own page, the admin tools, `portcullis user
//!   delete`) then deletes your rows in the same transaction. A disabled account is refused at
//!   its next request everywhere, yours included.
//! - **Apps people signed in to.** Portcullis is an OpenID Connect provider: an app a person
//!   signed in to through it gets an access token of its own, which [`CurrentUser`] refuses
//!   (403 `insufficient_scope`). A handler that means to serve such apps takes [`AppToken`].
//! - **Background work** (mail delivery, the purge, key reloads, the metrics listener) runs
//!   beside your server in [`Portcullis::run_until_stopped`] and stops with it.
//!
//! `examples/notes` in the repository is a complete app built this way.

#![deny(missing_docs)]

pub mod config;
pub mod database;

#[doc(hidden)]
pub mod auth;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod db;
#[doc(hidden)]
pub mod domain;
#[doc(hidden)]
pub mod errors;
#[doc(hidden)]
pub mod keys;
#[doc(hidden)]
pub mod logging;
#[doc(hidden)]
pub mod mail;
#[doc(hidden)]
pub mod metrics;
#[doc(hidden)]
pub mod routes;
#[doc(hidden)]
pub mod startup;
#[doc(hidden)]
pub mod state;

pub use auth::web::extract::{AppToken, CurrentUser, MaybeUser, RequireAdmin};
pub use auth::web::scope::{api_with_session as api_policy, pages as page_policy};
pub use auth::{Identity, Via};
pub use cli::Cli;
pub use config::Settings;
pub use domain::{Role, SessionId, UserId};
pub use routes::layer::app_layer;
pub use routes::shell::PageShell;
pub use startup::{AppMigrations, Application, Portcullis, Routes};

/// Installs the process's logger: `RUST_LOG` filters it, `format` is
/// `PORTCULLIS_LOG_FORMAT` (text, or one JSON object per line). Call once, before anything
/// logs.
pub fn init_logging(format: config::LogFormat) {
    logging::init(format);
}

/// A fatal error before or outside the logger (an invalid setting), as one line of `format`.
pub fn fatal_line(format: config::LogFormat, message: &str) -> String {
    logging::fatal_line(format, message)
}
