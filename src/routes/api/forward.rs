//! Forward authentication (`GET /api/auth/verify`): a reverse proxy (nginx `auth_request`,
//! Traefik ForwardAuth, Caddy `forward_auth`) asks whether the request in front of it is
//! signed in, and passes who it is to the app behind it. The Origin rule and the refresh in
//! place run before this handler (`auth::scope::forward_auth`); a request that is not signed
//! in gets the API's 401.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};

use crate::auth::CurrentUser;
use crate::errors::ErrorBody;

/// Forward authentication for a reverse proxy.
///
/// 200 with the user in `X-Portcullis-*` headers when the request's cookies or Bearer token are
/// signed in, refreshing in place when only the refresh cookie is valid; else 401. For an unsafe
/// original method, the Origin rule applies to the original request.
#[utoipa::path(get, path = "/api/auth/verify", tag = "tokens",
    security(("bearer" = []), ("access_cookie" = []), ("refresh_cookie" = [])),
    params(
        ("refresh" = Option<String>, Query, description = "`never`: answer 401 rather than refresh in place (for proxies that drop the auth response's cookies)."),
        ("X-Original-Method" = Option<String>, Header, description = "The method of the request the proxy asks about (nginx)."),
        ("X-Forwarded-Method" = Option<String>, Header, description = "The same (Traefik, Caddy)."),
    ),
    responses(
        (status = 200, description = "Signed in. Never cached.", headers(
            ("X-Portcullis-User-Id" = String), ("X-Portcullis-Email" = String),
            ("X-Portcullis-Email-Verified" = String, description = "`true` once the owner confirmed the address by a mailed link, else `false`: with open registration anyone can sign up with an address they do not own."),
            ("X-Portcullis-Role" = String),
            ("X-Portcullis-Set-Cookie-Access" = String, description = "After a refresh in place: the new access cookie, whole."),
            ("X-Portcullis-Set-Cookie-Refresh" = String, description = "After a refresh in place: the new refresh cookie, whole."),
        )),
        (status = 403, description = "`csrf_failed`: the original request is unsafe and came from another site.", body = ErrorBody),
    ))]
pub async fn verify(user: CurrentUser) -> HttpResponse {
    let identity = user.0;
    let mut res = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-portcullis-user-id", identity.user_id.to_string()))
        .insert_header((
            "x-portcullis-email-verified",
            if identity.email_verified { "true" } else { "false" },
        ))
        .insert_header(("x-portcullis-role", identity.role.as_str()))
        .finish();
    // An address may hold non-ASCII characters: they go out as UTF-8 bytes, which HTTP
    // allows in a field value (RFC 9110 §5.5, obs-text) and proxies pass on unchanged.
    if let Ok(email) = HeaderValue::from_bytes(identity.email.as_bytes()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-portcullis-email"), email);
    }
    res
}
