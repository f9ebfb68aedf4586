//! "Apps with access" in the JSON API (SPEC §11): the apps the caller let sign them in, and
//! taking that back.

use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::auth::client::ClientInfo;
use crate::auth::provider::grants::{self, AppAccess};
use crate::errors::{ApiError, ErrorBody};
use crate::state::AppState;

/// List the apps that can sign you in.
///
/// Most recently used first.
#[utoipa::path(get, path = "/api/account/apps", tag = "account",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "The caller's app grants.", body = Vec<AppAccess>)))]
pub async fn list_apps(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(grants::apps_with_access(&state.pool, &user.0).await?))
}

/// Revoke an app's access.
///
/// Its tokens stop working at once; it asks for consent again next time. Anyone else's grant
/// id is a 404.
#[utoipa::path(delete, path = "/api/account/apps/{id}", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "A grant id from `GET /api/account/apps`.")),
    responses(
        (status = 204, description = "The app's access has ended."),
        (status = 404, description = "`not_found`: no such grant of the caller's.", body = ErrorBody),
    ))]
pub async fn revoke_app(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if grants::revoke(&state.pool, &user.0, &id, &client).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
