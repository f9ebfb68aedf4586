use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::client::ClientInfo;
use crate::auth::{CurrentUser, sessions as auth_sessions};
use crate::db::{self, sessions};
use crate::errors::ApiError;
use crate::routes::device::describe_device;
use crate::state::AppState;

#[derive(Serialize)]
pub struct SessionResponse {
    id: String,
    device: String,
    ip: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    current: bool,
}

/// The caller's live sessions, most recently used first.
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

/// Ends one of the caller's own sessions; anyone else's id is a 404.
pub async fn delete_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if auth_sessions::revoke(&state.pool, &user.0.user_id, &id.as_str().into(), &client).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Ends every other session of the caller: 204.
pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let identity = user.0;
    auth_sessions::revoke_others(&state.pool, &identity.user_id, &identity.session_id, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
