//! `ApiError`: the JSON answer `{"error": code, "message": text}` and its status.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::StoreError;

/// The one answer to every credential failure: unknown email, wrong password, disabled.
pub const BAD_CREDENTIALS: &str = "That email and password do not match an account.";

/// A bounded queue of costly work is full (password hashing): the caller answers 503 with
/// `Retry-After` rather than wait without bound. It may travel inside an `anyhow::Error`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the server is busy")]
pub struct Busy;

impl From<Busy> for ApiError {
    fn from(_: Busy) -> Self {
        Self::Busy
    }
}

/// An error a handler returns; the client sees `{"error": code, "message": text}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized { invalid_token: bool },
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Right password, address not confirmed yet (`verify` registration).
    #[error("email not verified")]
    EmailNotVerified,
    /// Right password, and a second factor is on: complete the sign-in with a code at
    /// `POST /api/auth/mfa`, sending this token with it.
    #[error("a second factor is required")]
    MfaRequired { mfa_token: String },
    /// The second step's code is wrong (or already used); `attempts_left` for this mfa_token.
    #[error("invalid code")]
    InvalidCode { attempts_left: i64 },
    /// The mfa_token is unknown, expired, used, or dead after too many wrong codes.
    #[error("invalid mfa token")]
    InvalidMfaToken,
    /// A passkey sign-in whose answer does not verify or names no usable passkey.
    #[error("passkey rejected")]
    PasskeyRejected,
    #[error("{0}")]
    Forbidden(&'static str),
    /// An app's access token (SPEC §11) where only the person's own session may act.
    #[error("insufficient scope")]
    InsufficientScope,
    #[error("{0}")]
    CsrfFailed(&'static str),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is over the limit (a form, a JSON object or a token request).
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body's content type is not the one the route documents; the text says which.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// Malformed input: the code names the kind of problem, the text how to fix it.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Well-formed input with a missing field or a wrong value.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// The request conflicts with the state of things (409); the code names which.
    #[error("{message}")]
    Conflict { code: &'static str, message: &'static str },
    /// Any other status actix itself answered with (a bare 4xx), in our shape.
    #[error("{0}")]
    Status(StatusCode),
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    /// A bounded queue (password hashing) is full: come back in a moment.
    #[error("busy")]
    Busy,
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

/// Every error the API answers (but the token endpoint's RFC 6749 ones): `error` is a
/// snake_case code a program can branch on, `message` a sentence for a person.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: &'a str,
}

/// The error body of a sign-in: with `mfa_required`, also the token that completes the sign-in
/// at `POST /api/auth/mfa` (5 minutes, single use, dead after 5 wrong codes).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MfaRequiredBody<'a> {
    pub error: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<&'a str>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }

    /// The error for a status actix answered with before or around a handler (a 405 from a
    /// resource, a 413 from a payload limit), so that it gets the same code and text.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::UnsupportedMediaType("That content type is not accepted here.")
            }
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            s if s.is_server_error() => Self::Unexpected(anyhow::anyhow!("actix answered {s}")),
            s => Self::Status(s),
        }
    }

    /// The sentence a person reads for this error (a page shows it in place of the JSON).
    pub fn to_string_for_people(&self) -> String {
        self.code_and_message().1
    }

    pub(super) fn code_and_message(&self) -> (&str, String) {
        match self {
            Self::Unauthorized { invalid_token: true } => (
                "invalid_token",
                "Your session has expired or is no longer valid. Please sign in again.".into(),
            ),
            Self::Unauthorized { invalid_token: false } => {
                ("unauthorized", "Please sign in to continue.".into())
            }
            Self::InvalidCredentials => ("invalid_credentials", BAD_CREDENTIALS.into()),
            Self::EmailNotVerified => (
                "email_not_verified",
                "Confirm your email address first: follow the link we mailed you, or ask for a new one."
                    .into(),
            ),
            Self::MfaRequired { .. } => (
                "mfa_required",
                "Enter the code from your authenticator app (or a recovery code) to finish signing in."
                    .into(),
            ),
            Self::InvalidCode { attempts_left: 0 } => (
                "invalid_code",
                "That code is not right, and this sign-in has had too many wrong codes. Sign in again."
                    .into(),
            ),
            Self::InvalidCode { attempts_left } => (
                "invalid_code",
                format!(
                    "That code is not right or was already used. Try the current code from your app \
                     ({attempts_left} attempts left)."
                ),
            ),
            Self::InvalidMfaToken => (
                "invalid_mfa_token",
                "This sign-in has expired, was completed, or had too many wrong codes. Sign in again.".into(),
            ),
            Self::PasskeyRejected => (
                "passkey_rejected",
                "That passkey is not registered here or could not be verified. Sign in with your password."
                    .into(),
            ),
            Self::Forbidden(message) => ("forbidden", (*message).into()),
            Self::InsufficientScope => (
                "insufficient_scope",
                "An app's access token cannot do this: only the account's own sign-in can.".into(),
            ),
            Self::CsrfFailed(message) => ("csrf_failed", (*message).into()),
            Self::NotFound => ("not_found", "There is nothing here.".into()),
            Self::MethodNotAllowed => {
                ("method_not_allowed", "This address does not accept that method.".into())
            }
            Self::PayloadTooLarge => ("payload_too_large", "The request body is too large.".into()),
            Self::UnsupportedMediaType(message) => ("unsupported_media_type", (*message).into()),
            Self::BadRequest { code, message } | Self::Unprocessable { code, message } => {
                (code, message.clone())
            }
            Self::Status(_) => ("bad_request", "The request could not be understood.".into()),
            Self::Conflict { code, message } => (code, (*message).into()),
            Self::TooManyRequests { retry_after_secs } => (
                "too_many_requests",
                format!("Too many failed attempts. Try again in {retry_after_secs} seconds."),
            ),
            Self::Unavailable => {
                ("service_unavailable", "The service is temporarily unavailable. Try again shortly.".into())
            }
            Self::Busy => ("busy", "The server is busy. Try again in a moment.".into()),
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
        if e.downcast_ref::<Busy>().is_some() { Self::Busy } else { Self::Unexpected(e) }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized { .. }
            | Self::InvalidCredentials
            | Self::MfaRequired { .. }
            | Self::InvalidCode { .. }
            | Self::InvalidMfaToken
            | Self::PasskeyRejected => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::CsrfFailed(_) | Self::EmailNotVerified | Self::InsufficientScope => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Status(status) => *status,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(e) = self {
            log::error!(error:% = format!("{e:#}"); "request failed");
        }
        let (code, message) = self.code_and_message();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::InvalidCredentials
            | Self::InvalidCode { .. }
            | Self::InvalidMfaToken
            | Self::PasskeyRejected => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="portcullis""#));
            }
            Self::MfaRequired { mfa_token } => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="portcullis""#));
                return res.json(MfaRequiredBody {
                    error: code,
                    message: &message,
                    mfa_token: Some(mfa_token),
                });
            }
            Self::Unauthorized { invalid_token } => {
                let challenge = if *invalid_token {
                    r#"Bearer realm="portcullis", error="invalid_token""#
                } else {
                    r#"Bearer realm="portcullis""#
                };
                res.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::InsufficientScope => {
                let challenge = r#"Bearer realm="portcullis", error="insufficient_scope""#;
                res.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Busy => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        res.json(ErrorBody { error: code, message: &message })
    }
}
