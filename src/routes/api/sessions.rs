use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::auth::client::ClientInfo;
use crate::auth::session::sign_in;
use crate::db::{self, sessions};
use crate::errors::{ApiError, ErrorBody};
use crate::routes::device::describe_device;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    id: String,
    /// The browser and system, read from its User-Agent.
    device: String,
    ip: String,
    /// Unix time, seconds (as are the two below).
    created_at: i64,
    last_used_at: i64,
    /// When the session ends unless used again (idle timeout) or at its absolute limit.
    expires_at: i64,
    /// The session making this request.
    current: bool,
}

/// List your live sessions.
///
/// Most recently used first; the one making the request is marked `current`.
#[utoipa::path(get, path = "/api/sessions", tag = "account",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "The caller's live sessions.", body = Vec<SessionResponse>)))]
pub async fn list_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<Vec<SessionResponse>>, ApiError> {
    let identity = user.0;
    let user_id = identity.user_id.clone();
    let rows = db::query(&state.pool, move |conn| sessions::live_sessions(conn, &user_id, db::now())).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|s| SessionResponse {
                current: s.id == identity.session_id,
                device: describe_device(&s.user_agent),
                expires_at: s.idle_expires_at.min(s.absolute_expires_at),
                id: s.id.to_string(),
                ip: s.ip,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
            })
            .collect(),
    ))
}

/// End one of your sessions.
///
/// Anyone else's session id is a 404.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "A session id from `GET /api/sessions`.")),
    responses(
        (status = 204, description = "The session has ended."),
        (status = 404, description = "`not_found`: no such session of the caller's.", body = ErrorBody),
    ))]
pub async fn delete_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if sign_in::revoke(&state.pool, &user.0.user_id, &id.as_str().into(), &client).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// End every other session of yours.
#[utoipa::path(post, path = "/api/sessions/revoke-others", tag = "account",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    responses((status = 204, description = "Every other session of the caller has ended.")))]
pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    sign_in::revoke_others(&state.pool, &identity.user_id, &identity.session_id, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
