//! The RFC 6749 §5.2 error answer the token and revocation endpoints share.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(super) struct OAuthError<'a> {
    pub(super) error: &'a str,
    pub(super) error_description: &'a str,
    pub(super) message: &'a str,
    /// With `mfa_required` only: send it with a code to `POST /api/auth/mfa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) mfa_token: Option<&'a str>,
}

/// RFC 6749 §5.2: 400 with `error` and `error_description`.
pub(super) fn oauth_error(error: &str, description: &str) -> HttpResponse {
    no_store(HttpResponse::build(StatusCode::BAD_REQUEST)).json(OAuthError {
        error,
        error_description: description,
        message: description,
        mfa_token: None,
    })
}

pub(super) fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    res
}
