//! `/api/admin`: the administrators' JSON twins of the admin page and the CLI. Every action
//! goes through the one implementation in `auth::lifecycle` (so the last enabled administrator
//! cannot be demoted, disabled or deleted here either: 409 `last_admin`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::EventResponse;
use super::me::UserResponse;
use crate::auth::RequireAdmin;
use crate::auth::account::lifecycle;
use crate::auth::client::ClientInfo;
use crate::db::{self, events, users};
use crate::domain::{Role, UserId};
use crate::errors::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AdminUserResponse {
    #[serde(flatten)]
    user: UserResponse,
    disabled: bool,
}

/// List every account.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [])),
    responses(
        (status = 200, description = "Every account.", body = Vec<AdminUserResponse>),
    ))]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
) -> Result<web::Json<Vec<AdminUserResponse>>, ApiError> {
    let all = db::query(&state.pool, users::list_users).await?;
    Ok(web::Json(
        all.iter().map(|u| AdminUserResponse { user: UserResponse::from(u), disabled: u.disabled }).collect(),
    ))
}

/// Disable a user.
///
/// Every session of theirs ends at once. An administrator cannot disable their own account,
/// nor the last enabled administrator.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Disabled; every session of the user has ended."),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last enabled administrator.", body = ErrorBody),
        (status = 422, description = "`cannot_disable_self`.", body = ErrorBody),
    ))]
pub async fn disable_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = UserId::from(id.into_inner());
    lifecycle::set_disabled(&state.pool, &user_id, true, admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Enable a disabled user.
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Enabled."), (status = 404, description = "`not_found`: no such user.", body = ErrorBody)))]
pub async fn enable_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = UserId::from(id.into_inner());
    lifecycle::set_disabled(&state.pool, &user_id, false, admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    #[schema(value_type = Role)]
    role: String,
}

/// Set a user's role.
///
/// `admin` or `user`; the last enabled administrator cannot be demoted.
#[utoipa::path(put, path = "/api/admin/users/{id}/role", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    request_body = RoleRequest,
    responses(
        (status = 204, description = "The role is set (it reaches access tokens at their next refresh)."),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last enabled administrator cannot be demoted.", body = ErrorBody),
        (status = 422, description = "`invalid_role`.", body = ErrorBody),
    ))]
pub async fn set_role(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
    body: web::Json<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let role = Role::try_from(body.role.as_str())
        .map_err(|_| ApiError::unprocessable("invalid_role", "role: expected admin or user."))?;
    lifecycle::set_role(&state.pool, &UserId::from(id.into_inner()), role, admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete a user.
///
/// The user, their sessions and events are gone. Never the last enabled administrator.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "The user, their sessions and events are gone."),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last enabled administrator.", body = ErrorBody),
        (status = 422, description = "`cannot_delete_self`: delete your own account with `DELETE /api/account`.", body = ErrorBody),
    ))]
pub async fn delete_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::delete_user(&state.pool, &UserId::from(id.into_inner()), Some(admin.actor()), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of a user.
#[utoipa::path(delete, path = "/api/admin/users/{id}/sessions", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Every session of the user has ended."), (status = 404, description = "`not_found`: no such user.", body = ErrorBody)))]
pub async fn end_sessions(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::end_all_sessions(&state.pool, &UserId::from(id.into_inner()), admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lift a user's sign-in lock.
#[utoipa::path(post, path = "/api/admin/users/{id}/unlock", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "The user's sign-in lock is lifted."), (status = 404, description = "`not_found`: no such user.", body = ErrorBody)))]
pub async fn unlock(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::unlock(&state.pool, &UserId::from(id.into_inner()), admin.actor(), &client)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Read a user's security events.
///
/// The most recent ones, newest first.
#[utoipa::path(get, path = "/api/admin/users/{id}/events", tag = "admin",
    security(("bearer" = []), ("access_cookie" = [])),
    params(("id" = String, Path, description = "The user's id.")),
    responses((status = 200, description = "The user's most recent security events, newest first.", body = Vec<EventResponse>),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody)))]
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
