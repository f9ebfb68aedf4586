//! Forward authentication (`GET /api/auth/verify`): a reverse proxy (nginx `auth_request`,
//! Traefik ForwardAuth, Caddy `forward_auth`) asks whether the request in front of it is
//! signed in, and passes who it is to the app behind it. The Origin rule and the refresh in
//! place run before this handler (`auth::scope::forward_auth`); a request that is not signed
//! in gets the API's 401.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};

use crate::auth::CurrentUser;

pub async fn verify(user: CurrentUser) -> HttpResponse {
    let identity = user.0;
    let mut res = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-portcullis-user-id", identity.user_id.to_string()))
        .insert_header(("x-portcullis-role", identity.role.as_str()))
        .finish();
    // An address may hold non-ASCII characters: they go out as UTF-8 bytes, which HTTP
    // allows in a field value (RFC 9110 §5.5, obs-text) and proxies pass on unchanged.
    if let Ok(email) = HeaderValue::from_bytes(identity.email.as_bytes()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-portcullis-email"), email);
    }
    res
}
