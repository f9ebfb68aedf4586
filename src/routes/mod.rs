//! The single route table, used by the server and the tests alike.

pub mod api;
pub mod device;
pub mod headers;
pub mod health;
pub mod pages;

use std::path::PathBuf;

use actix_web::{HttpRequest, web};

use crate::errors::{self, ApiError, PageError};

/// Bodies Portcullis accepts are small forms and JSON objects (SPEC hardening: 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(errors::json_error))
        .app_data(web::FormConfig::default().limit(BODY_LIMIT).error_handler(errors::form_error))
        .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
        .service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .configure(api::configure)
        .configure(pages::configure)
        .service(actix_files::Files::new("/static", static_dir()))
        .default_service(web::to(not_found));
}

/// `./static` when run from a checkout, else the one the binary was built from.
fn static_dir() -> PathBuf {
    let local = PathBuf::from("static");
    if local.is_dir() { local } else { PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")) }
}

async fn not_found(req: HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    if errors::wants_json(&req) {
        ApiError::NotFound.error_response()
    } else {
        PageError::not_found().error_response()
    }
}
