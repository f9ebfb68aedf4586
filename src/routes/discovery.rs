//! What other services read to trust Portcullis tokens on their own: the public keys
//! (RFC 7517 JWKS) and the authorization server metadata (RFC 8414). Public, cacheable, and
//! outside every scope: no identity, no cookies.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::auth::provider::authorize::{AUTHORIZE_PATH, LOGOUT_PATH};
use crate::auth::provider::scope;
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

/// `GET /.well-known/oauth-authorization-server` (RFC 8414 §2): the same endpoints as the
/// OpenID configuration, plus the first-party `password` grant. Without a key ring (HS256
/// mode) there is no provider: only the token, revocation and JWKS endpoints.
pub async fn metadata(public_url: web::Data<PublicUrl>, sessions: web::Data<Sessions>) -> HttpResponse {
    let issuer = public_url.as_str();
    let mut document = if sessions.keys.provider_on() {
        provider_document(issuer)
    } else {
        json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/api/auth/token"),
            "revocation_endpoint": format!("{issuer}/api/auth/revoke"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [],
            "grant_types_supported": [],
        })
    };
    if let Some(grants) = document.get_mut("grant_types_supported").and_then(|g| g.as_array_mut()) {
        grants.insert(0, json!("password"));
        if !grants.iter().any(|g| g == "refresh_token") {
            grants.push(json!("refresh_token"));
        }
    }
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=3600")).json(document)
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0, SPEC §11); 404 in
/// HS256 mode, where no app could verify an ID token.
pub async fn openid_configuration(
    public_url: web::Data<PublicUrl>,
    sessions: web::Data<Sessions>,
) -> HttpResponse {
    if !sessions.keys.provider_on() {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(provider_document(public_url.as_str()))
}

/// What discovery and RFC 8414 both say of the provider.
fn provider_document(issuer: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}/api/auth/token"),
        "userinfo_endpoint": format!("{issuer}/api/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}{LOGOUT_PATH}"),
        "revocation_endpoint": format!("{issuer}/api/auth/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "scopes_supported": scope::SUPPORTED,
        "subject_types_supported": ["public"],
        "claims_supported": [
            "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "sid",
            "email", "email_verified", "preferred_username"
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
