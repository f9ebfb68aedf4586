//! The OpenAPI 3.1 document of the JSON API (`GET /api/openapi.json`), generated from the
//! handlers' own attributes and types. Each handler declares what is particular to it (its
//! body, its answers, its errors); `Conventions` adds what every route of a kind shares,
//! so that a rule enforced in one place (the body parser, the guard, the CSRF checks, the
//! hashing queue) is documented in one place too.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, HeaderBuilder, Object, Ref, RefOr, Response, ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

use super::{account, admin, admin_clients, apps, auth, docs, forward, me, oauth, passkeys};
use super::{recovery, register, sessions, token, two_factor};
use crate::auth::MaybeUser;
use crate::errors::PageError;
use crate::routes::view::layout::layout;
use crate::routes::view::render::render;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "JWT authentication: the JSON API for the same sessions as the pages. \
            Browsers sign in with `POST /api/auth/login` and carry HttpOnly cookies (send the \
            `csrf_token` cookie's value back in `X-CSRF-Token` on unsafe requests); scripts and \
            services get tokens from `POST /api/auth/token` and send `Authorization: Bearer`. \
            Every error is `{\"error\": code, \"message\": text}` but the token endpoint's, \
            which follow RFC 6749.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        auth::csrf, auth::login, register::register, auth::refresh, auth::logout,
        two_factor::complete_mfa, passkeys::sign_in_options, passkeys::sign_in, token::token, auth::revoke, forward::verify,
        recovery::forgot_password, recovery::reset_password, recovery::verify_email,
        me::me, sessions::list_sessions, sessions::delete_session, sessions::revoke_other_sessions,
        apps::list_apps, apps::revoke_app, oauth::userinfo, oauth::userinfo_post,
        account::change_password, account::change_email, recovery::send_verification,
        account::list_events, account::delete_account,
        two_factor::factors, two_factor::start_totp, two_factor::confirm_totp, two_factor::disable_totp,
        two_factor::renew_recovery_codes,
        passkeys::list, passkeys::registration_options, passkeys::add, passkeys::remove,
        admin::list_users, admin::disable_user, admin::enable_user, admin::set_role,
        admin::delete_user, admin::end_sessions, admin::user_events, admin::unlock,
        admin_clients::list_clients, admin_clients::add_client, admin_clients::set_client_redirect_uris,
        admin_clients::rotate_client_secret, admin_clients::remove_client,
        two_factor::reset_user_factors,
        document, docs,
    ),
    modifiers(&Conventions),
    tags(
        (name = "session", description = "Browser sessions: sign in, register, refresh, sign out."),
        (name = "tokens", description = "For scripts, services and reverse proxies: OAuth2 tokens (RFC 6749), revocation (RFC 7009), forward authentication."),
        (name = "recovery", description = "Forgotten passwords and email confirmation: the tokens from the mailed links."),
        (name = "account", description = "The signed-in user's own account and sessions."),
        (name = "apps", description = "For apps that sign people in through Portcullis (OpenID Connect, SPEC §11)."),
        (name = "two-factor", description = "The signed-in user's second factor: an authenticator app (TOTP) and its recovery codes, and passkeys."),
        (name = "admin", description = "Administrators only: every other caller gets 403 `forbidden`."),
        (name = "meta", description = "This document."),
    ),
)]
pub struct ApiDoc;

/// The document, built once per process (it never changes while it runs).
pub fn json() -> &'static str {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of every `/api` route.", content_type = "application/json", body = Object)))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(json())
}

/// The API reference, readable without JavaScript.
#[utoipa::path(get, path = "/api/docs", tag = "meta",
    responses((status = 200, description = "This document as an HTML page.", content_type = "text/html")))]
pub async fn docs(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, PageError> {
    let document: serde_json::Value = serde_json::from_str(json()).map_err(anyhow::Error::from)?;
    let (layout, csrf_cookie) = layout(&req, &state, user.0.as_ref());
    render(StatusCode::OK, &docs::page(layout, &document), csrf_cookie)
}

/// The security schemes, and the answers every route of a kind shares.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        add_security_schemes(components);
        add_shared_responses(components);
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.delete),
            ];
            for (unsafe_method, op) in ops {
                let Some(op) = op else { continue };
                let signed_in = op
                    .security
                    .as_ref()
                    .is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| !is_anonymous(r)));
                let mut shared = vec![("503", "Unavailable")];
                if op.request_body.is_some() {
                    shared.extend([
                        ("400", "BadRequest"),
                        ("413", "PayloadTooLarge"),
                        ("415", "UnsupportedMediaType"),
                        ("422", "Unprocessable"),
                    ]);
                }
                if signed_in {
                    shared.push(("401", "Unauthorized"));
                }
                let admin_only = op.tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t == "admin"));
                if admin_only {
                    shared.push(("403", "AdminOnly"));
                } else if unsafe_method {
                    shared.push(("403", "CrossSite"));
                }
                for (status, name) in shared {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

/// `security((), …)` marks a route that also answers anonymous callers.
fn is_anonymous(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(requirement).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn add_security_schemes(components: &mut Components) {
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from `POST /api/auth/token`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "access_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "access_token",
            "The access cookie set at sign-in (`__Host-access_token` over https).",
        ))),
    );
    components.add_security_scheme(
        "refresh_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "refresh_token",
            "The refresh cookie (`__Host-refresh_token` over https). Unsafe requests that carry only \
             it are refreshed in place.",
        ))),
    );
    components.add_security_scheme(
        "csrf_header",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The `csrf_token` cookie's value (or `GET /api/auth/csrf`'s), required on unsafe \
             requests of a cookie session.",
        ))),
    );
}

fn add_shared_responses(components: &mut Components) {
    let shared = [
        ("BadRequest", "`malformed_json` or `invalid_form`: the body could not be parsed.", None),
        ("PayloadTooLarge", "`payload_too_large`: bodies are limited to 16 KiB.", None),
        (
            "UnsupportedMediaType",
            "`unsupported_media_type`: the body's Content-Type is not the documented one.",
            None,
        ),
        (
            "Unprocessable",
            "`invalid_body`: a field is missing or has the wrong type; the message names it.",
            None,
        ),
        (
            "Unauthorized",
            "`unauthorized`: not signed in; `invalid_token`: the token has expired, was revoked or \
             is not valid. Carries `WWW-Authenticate: Bearer`.",
            Some("WWW-Authenticate"),
        ),
        (
            "CrossSite",
            "`csrf_failed`: the request came from another site, or a cookie session sent no valid \
             `X-CSRF-Token`.",
            None,
        ),
        (
            "AdminOnly",
            "`forbidden`: administrators only; or `csrf_failed`: a request from another site, or a \
             cookie session without a valid `X-CSRF-Token`.",
            None,
        ),
        (
            "Unavailable",
            "`service_unavailable`: the database does not answer; `busy`: too many passwords are \
             being hashed. Carries `Retry-After` when it is worth retrying soon.",
            Some("Retry-After"),
        ),
    ];
    for (name, description, header) in shared {
        components.responses.insert(name.to_owned(), RefOr::T(error_response(description, header)));
    }
}

fn error_response(description: &str, header: Option<&str>) -> Response {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    let mut response = ResponseBuilder::new().description(description).content("application/json", content);
    if let Some(name) = header {
        let ty = if name == "Retry-After" { Type::Integer } else { Type::String };
        response = response.header(name, HeaderBuilder::new().schema(Some(Object::with_type(ty))).build());
    }
    response.build()
}
