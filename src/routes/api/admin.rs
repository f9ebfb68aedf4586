//! `/api/admin`: the administrators' JSON twins of the admin page and the CLI. Every action
//! goes through the one implementation in `auth::lifecycle` (so the last enabled administrator
//! cannot be demoted, disabled or deleted here either: 409 `last_admin`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::account::{EventResponse, api_error};
use super::me::UserResponse;
use crate::auth::RequireAdmin;
use crate::auth::client::ClientInfo;
use crate::auth::lifecycle;
use crate::db::{self, events, users};
use crate::domain::{Role, UserId};
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub struct AdminUserResponse {
    #[serde(flatten)]
    user: UserResponse,
    disabled: bool,
}

/// Every account, for administrators.
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
) -> Result<web::Json<Vec<AdminUserResponse>>, ApiError> {
    let all = db::query(&state.pool, users::list_users).await?;
    Ok(web::Json(
        all.iter().map(|u| AdminUserResponse { user: UserResponse::from(u), disabled: u.disabled }).collect(),
    ))
}

/// 204; an administrator cannot disable their own account (422), nor the last enabled one (409).
pub async fn disable_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = UserId::from(id.into_inner());
    if user_id == admin.0.user_id {
        return Err(ApiError::unprocessable("cannot_disable_self", "You cannot disable your own account."));
    }
    lifecycle::set_disabled(&state.pool, &user_id, true, &client).await.map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn enable_user(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = UserId::from(id.into_inner());
    lifecycle::set_disabled(&state.pool, &user_id, false, &client).await.map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct RoleRequest {
    role: String,
}

/// 204; `{"role": "admin" | "user"}`.
pub async fn set_role(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
    body: web::Json<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let role = Role::try_from(body.role.as_str())
        .map_err(|_| ApiError::unprocessable("invalid_role", "role: expected admin or user."))?;
    lifecycle::set_role(&state.pool, &UserId::from(id.into_inner()), role).await.map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// 204: the user, their sessions and events are gone.
pub async fn delete_user(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::delete_user(&state.pool, &UserId::from(id.into_inner())).await.map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// 204: every session of the user ends at once.
pub async fn end_sessions(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::end_all_sessions(&state.pool, &UserId::from(id.into_inner()), &client)
        .await
        .map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// 204: the user's sign-in lock is lifted.
pub async fn unlock(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::unlock(&state.pool, &UserId::from(id.into_inner())).await.map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's security events, newest first (404 for an unknown user).
pub async fn user_events(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<web::Json<Vec<EventResponse>>, ApiError> {
    let user_id = UserId::from(id.into_inner());
    let rows = db::query(&state.pool, move |conn| {
        if users::find_user_by_id(conn, &user_id)?.is_none() {
            return Ok(None);
        }
        events::recent_events(conn, &user_id, super::account::EVENTS_LISTED).map(Some)
    })
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(web::Json(rows.into_iter().map(EventResponse::from).collect()))
}
