//! Errors raised before a handler runs (body parsing) or inside actix itself, given the
//! same shape as handler errors.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, UrlencodedError};
use actix_web::http::header;
use actix_web::{HttpRequest, ResponseError};

use super::api::ApiError;
use super::page::PageError;
use super::route::{for_request, wants_json};

/// Body-parsing failures for JSON bodies: 413, 415, 400 or 422 with a plain sentence.
pub fn json_error(err: JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
        }
        JsonPayloadError::Deserialize(de) if de.is_data() => ApiError::unprocessable(
            "invalid_body",
            format!("The JSON body is missing a field or has a wrong value: {de}"),
        ),
        _ => ApiError::bad_request("malformed_json", "The request body is not valid JSON."),
    };
    for_request(req, e)
}

/// Body-parsing failures for form bodies, shaped for the path (page or API).
pub fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge,
        UrlencodedError::ContentType => {
            ApiError::UnsupportedMediaType("Send the form as application/x-www-form-urlencoded.")
        }
        _ => ApiError::bad_request(
            "invalid_form",
            "The form was incomplete or malformed. Please fill it in again.",
        ),
    };
    for_request(req, e)
}

/// Gives every error response the shape of its route. Errors raised inside actix itself
/// (405 from a resource, 413 from a payload limit) arrive as plain text or empty bodies; they
/// leave here as `{"error","message"}` JSON on API routes and as an error page elsewhere.
pub fn shape_bare_error<B: MessageBody + 'static>(res: ServiceResponse<B>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let json = wants_json(res.request());
    let shaped = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || shaped {
        return res.map_into_boxed_body();
    }
    let error = ApiError::from_status(status);
    let mut replacement = if json {
        let mut r = error.error_response();
        copy_challenge(res.headers(), r.headers_mut());
        r
    } else {
        PageError::from(error).error_response()
    };
    // The guard may have rotated the refresh token on this very request: dropping its new
    // cookies would leave the browser with the old token, whose next use reads as theft.
    for cookie in res.headers().get_all(header::SET_COOKIE) {
        replacement.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, replacement).map_into_boxed_body()
}

fn copy_challenge(from: &header::HeaderMap, to: &mut header::HeaderMap) {
    for name in [header::WWW_AUTHENTICATE, header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = from.get(&name) {
            to.insert(name, v.clone());
        }
    }
}
