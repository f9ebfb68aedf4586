//! `/admin/users`: every account, with disable and enable buttons. Admins only.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::layout::{Layout, layout};
use super::render::{render, see_other};
use crate::auth::client::ClientInfo;
use crate::auth::extract::RequireAdmin;
use crate::auth::lifecycle::{self, AccountError};
use crate::db::{self, StoreError, sessions, users};
use crate::domain::UserId;
use crate::errors::PageError;
use crate::routes::format;
use crate::state::AppState;

pub struct UserRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub created: String,
    pub sessions: i64,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "pages/admin_users.html")]
pub struct AdminUsersPage {
    layout: Layout,
    users: Vec<UserRow>,
}

pub async fn admin_users_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
) -> Result<HttpResponse, PageError> {
    let identity = admin.0;
    let (all, counts) = db::run(&state.pool, |conn| {
        let all = users::list_users(conn)?;
        let counts: HashMap<UserId, i64> =
            sessions::live_session_counts(conn, db::now())?.into_iter().collect();
        Ok::<_, StoreError>((all, counts))
    })
    .await?;
    let rows = all
        .into_iter()
        .map(|u| UserRow {
            sessions: counts.get(&u.id).copied().unwrap_or(0),
            is_self: u.id == identity.user_id,
            created: format::human_date(u.created_at),
            id: u.id.to_string(),
            email: u.email,
            role: u.role.to_string(),
            disabled: u.disabled,
        })
        .collect();
    let (layout, csrf_cookie) = layout(&req, &state, Some(&identity));
    render(StatusCode::OK, &AdminUsersPage { layout, users: rows }, csrf_cookie)
}

pub async fn disable_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_disabled(&state, &admin, &client, &UserId::from(id.into_inner()), true).await
}

pub async fn enable_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    set_disabled(&state, &admin, &client, &UserId::from(id.into_inner()), false).await
}

/// Disabling also revokes every session of the user at once.
async fn set_disabled(
    state: &AppState,
    admin: &RequireAdmin,
    client: &ClientInfo,
    user_id: &UserId,
    disabled: bool,
) -> Result<HttpResponse, PageError> {
    if disabled && *user_id == admin.0.user_id {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not possible",
            "You cannot disable your own account.",
        ));
    }
    match lifecycle::set_disabled(&state.pool, user_id, disabled, client).await {
        Ok(()) => {}
        Err(AccountError::NotFound) => return Err(PageError::not_found()),
        Err(AccountError::LastAdmin) => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "Not possible",
                "That is the last enabled administrator: make someone else an administrator first.",
            ));
        }
        Err(AccountError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(anyhow::Error::new(e).into()),
    }
    log::info!("admin {} {} user {user_id}", admin.0.user_id, if disabled { "disabled" } else { "enabled" });
    Ok(see_other("/admin/users", []))
}
