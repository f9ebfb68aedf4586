//! `/api/admin/clients`: the administrators' JSON twin of `portcullis client …` and the
//! `/admin/clients` page — the apps that sign people in through Portcullis (SPEC §11). Every
//! action goes through `auth::provider::clients`; a secret is in the answer that made it, and
//! nowhere else ever again.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::RequireAdmin;
use crate::auth::provider::clients::{self, ClientSpec, ClientView, Credentials};
use crate::db;
use crate::errors::{ApiError, ErrorBody};
use crate::keys::Alg;
use crate::state::AppState;

/// A new client.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientRequest {
    /// Shown on the consent page, 1 to 100 characters.
    name: String,
    /// Where the app receives the code: `https://`, or `http://` on a loopback host; matched
    /// exactly. At least one, at most 20.
    redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return to, matched exactly.
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// A public client (SPA, native app): no secret, PKCE required.
    #[serde(default)]
    public: bool,
    /// A first-party app whose users are never asked to consent.
    #[serde(default)]
    skip_consent: bool,
    /// `RS256` (the default), `ES256` or `EdDSA`.
    #[serde(default)]
    id_token_alg: Option<String>,
}

/// A client's redirect URIs, replaced as a whole.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectUrisRequest {
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
}

/// List the registered apps.
#[utoipa::path(get, path = "/api/admin/clients", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "Every registered app, oldest first, without secrets.", body = Vec<ClientView>)))]
pub async fn list_clients(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
) -> Result<web::Json<Vec<ClientView>>, ApiError> {
    let all = db::query(&state.pool, |conn| Ok(clients::list(conn))).await?;
    Ok(web::Json(all?))
}

/// Register an app.
///
/// The answer holds the secret of a confidential client; it is shown once (only its SHA-256
/// is stored).
#[utoipa::path(post, path = "/api/admin/clients", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    request_body = NewClientRequest,
    responses(
        (status = 201, description = "Registered: the client id, and the secret of a confidential client.", body = Credentials),
        (status = 422, description = "`invalid_client_metadata`: the message names what is wrong.", body = ErrorBody),
    ))]
pub async fn add_client(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    body: web::Json<NewClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id_token_alg = match body.id_token_alg.as_deref() {
        None => Alg::RS256,
        Some(raw) => Alg::parse(raw).ok_or_else(|| {
            ApiError::unprocessable("invalid_client_metadata", "id_token_alg: one of RS256, ES256, EdDSA.")
        })?,
    };
    let spec = ClientSpec {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        public: body.public,
        skip_consent: body.skip_consent,
        id_token_alg,
    };
    let made = db::query(&state.pool, move |conn| Ok(clients::add(conn, &spec))).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Replace an app's redirect URIs.
#[utoipa::path(put, path = "/api/admin/clients/{id}/redirect-uris", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The client id.")),
    request_body = RedirectUrisRequest,
    responses(
        (status = 204, description = "Replaced; the next authorization request is checked against them."),
        (status = 404, description = "`not_found`: no such app.", body = ErrorBody),
        (status = 422, description = "`invalid_client_metadata`: the message names what is wrong.", body = ErrorBody),
    ))]
pub async fn set_client_redirect_uris(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
    body: web::Json<RedirectUrisRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    db::query(&state.pool, move |conn| {
        Ok(clients::set_redirect_uris(conn, &id, &body.redirect_uris, &body.post_logout_redirect_uris))
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Give an app a new secret.
///
/// The old secret stops working at once; the answer holds the new one, shown once.
#[utoipa::path(post, path = "/api/admin/clients/{id}/secret", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, description = "The new secret.", body = Credentials),
        (status = 404, description = "`not_found`: no such app.", body = ErrorBody),
        (status = 409, description = "`public_client`: a public client has no secret.", body = ErrorBody),
    ))]
pub async fn rotate_client_secret(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<web::Json<Credentials>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(db::query(&state.pool, move |conn| Ok(clients::rotate_secret(conn, &id))).await??))
}

/// Remove an app.
#[utoipa::path(delete, path = "/api/admin/clients/{id}", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "`not_found`: no such app.", body = ErrorBody),
    ))]
pub async fn remove_client(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::query(&state.pool, move |conn| Ok(clients::remove(conn, &id))).await??;
    Ok(HttpResponse::NoContent().finish())
}
