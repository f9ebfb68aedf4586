//! What other services read to trust Portcullis tokens on their own: the public keys
//! (RFC 7517 JWKS) and the authorization server metadata (RFC 8414). Public, cacheable, and
//! outside every scope: no identity, no cookies.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::auth::session::sign_in::Sessions;
use crate::config::PublicUrl;
use crate::db;

/// `GET /.well-known/jwks.json`: every key that may have signed a live access token, newest
/// (the active one) first. Empty with `PORTCULLIS_JWT_SECRET` (HS256 has no public half).
pub async fn jwks(sessions: web::Data<Sessions>) -> HttpResponse {
    let keys = &sessions.keys;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", keys.jwks_max_age())))
        .insert_header((header::CONTENT_TYPE, "application/jwk-set+json"))
        .json(keys.jwks(db::now()))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414 §2): the token, revocation and
/// JWKS endpoints and what the token endpoint accepts. There is no authorization endpoint
/// (no redirect-based grant), hence no response types.
pub async fn metadata(public_url: web::Data<PublicUrl>) -> HttpResponse {
    let issuer = public_url.as_str();
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=3600")).json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/api/auth/token"),
        "revocation_endpoint": format!("{issuer}/api/auth/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": [],
    }))
}
