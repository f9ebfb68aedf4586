//! `/admin/users`: every account, with disable and enable buttons. Admins only.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::layout::{Layout, layout};
use super::render::{render, see_other};
use crate::auth::accounts;
use crate::auth::client::ClientInfo;
use crate::auth::csrf::{self, CsrfForm};
use crate::auth::extract::RequireAdmin;
use crate::db::{self, StoreError, sessions, users};
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
        let counts: HashMap<String, i64> =
            sessions::live_session_counts(conn, db::now())?.into_iter().collect();
        Ok::<_, StoreError>((all, counts))
    })
    .await?;
    let rows = all
        .into_iter()
        .map(|u| UserRow {
            sessions: counts.get(&u.id).copied().unwrap_or(0),
            is_self: u.id == identity.user_id.as_str(),
            created: format::human_date(u.created_at),
            id: u.id,
            email: u.email,
            role: u.role.to_string(),
            disabled: u.disabled,
        })
        .collect();
    let (layout, csrf_cookie) = layout(&req, &state, Some(&identity));
    render(StatusCode::OK, &AdminUsersPage { layout, users: rows }, csrf_cookie)
}

pub async fn disable_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    set_disabled(&req, &state, &admin, &client, &id, &form.csrf_token, true).await
}

pub async fn enable_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    set_disabled(&req, &state, &admin, &client, &id, &form.csrf_token, false).await
}

/// Disabling also revokes every session of the user at once.
async fn set_disabled(
    req: &HttpRequest,
    state: &AppState,
    admin: &RequireAdmin,
    client: &ClientInfo,
    user_id: &str,
    csrf_token: &str,
    disabled: bool,
) -> Result<HttpResponse, PageError> {
    csrf::require_form(req, &state.csrf, &state.cookies, Some(&admin.0), csrf_token)?;
    if disabled && user_id == admin.0.user_id.as_str() {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not possible",
            "You cannot disable your own account.",
        ));
    }
    if !accounts::set_disabled(&state.pool, user_id, disabled, client).await? {
        return Err(PageError::not_found());
    }
    log::info!("admin {} {} user {user_id}", admin.0.user_id, if disabled { "disabled" } else { "enabled" });
    Ok(see_other("/admin/users", []))
}
