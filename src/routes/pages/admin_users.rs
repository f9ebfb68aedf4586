//! `/admin/users`: every account, with disable and enable buttons; `/admin/users/{id}`: one
//! account, its security events, and the tools (role, end sessions, lift the sign-in lock,
//! delete). Admins only. Every action goes through `auth::lifecycle`, which records it as a
//! security event on the account naming the administrator.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::account::lifecycle::{self, AccountError};
use crate::auth::client::ClientInfo;
use crate::auth::factors::two_factor::{self, Factors};
use crate::auth::throttle;
use crate::auth::web::extract::RequireAdmin;
use crate::db::{self, StoreError, events, sessions, users};
use crate::domain::{Role, UserId};
use crate::errors::PageError;
use crate::routes::device::describe_device;
use crate::routes::format;
use crate::routes::pages::account::EventRow;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
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

#[derive(Template)]
#[template(path = "pages/admin_user.html")]
pub struct AdminUserPage {
    layout: Layout,
    user: UserRow,
    locked: bool,
    factors: Factors,
    events: Vec<EventRow>,
    notice: Option<&'static str>,
}

/// How many of a user's most recent security events the admin page lists.
const EVENTS_SHOWN: i64 = 50;

/// `?done=…` after a form: which notice the page shows.
#[derive(Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// One account, its recent security events, and what an administrator can do to it.
pub async fn admin_user_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let identity = admin.0;
    let user_id = UserId::from(id.into_inner());
    let now = db::now();
    let found = db::run(&state.pool, move |conn| {
        let Some(user) = users::find_user_by_id(conn, &user_id)? else { return Ok(None) };
        let live = sessions::live_sessions(conn, &user_id, now)?.len();
        let recent = events::recent_events(conn, &user_id, EVENTS_SHOWN)?;
        Ok::<_, StoreError>(Some((user, live, recent)))
    })
    .await?;
    let Some((user, live, recent)) = found else { return Err(PageError::not_found()) };
    let keys = [
        throttle::Key::account(&user.email),
        throttle::Key::reauth(&user.id),
        throttle::Key::second_factor(&user.id),
    ];
    let locked = throttle::any_locked(&state.pool, &keys).await?;
    let factors = two_factor::factors_of(&state.pool, &user.id).await?;
    let row = UserRow {
        sessions: i64::try_from(live).unwrap_or(i64::MAX),
        is_self: user.id == identity.user_id,
        created: format::human_date(user.created_at),
        id: user.id.to_string(),
        email: user.email,
        role: user.role.to_string(),
        disabled: user.disabled,
    };
    let events = recent
        .into_iter()
        .map(|e| EventRow {
            when: format::human_time(e.created_at),
            what: e.kind.describe(),
            detail: e.detail.unwrap_or_default(),
            ip: e.ip,
            device: describe_device(&e.user_agent),
            count: 1,
        })
        .collect();
    let notice = match done.done.as_deref() {
        Some("role") => Some("The role is changed."),
        Some("sessions") => Some("Every session of this account has ended."),
        Some("unlock") => Some("The sign-in lock is lifted."),
        Some("2fa") => Some("Every second factor of this account is off; its owner has been told by mail."),
        _ => None,
    };
    let (layout, csrf_cookie) = layout(&req, &state, Some(&identity));
    render(StatusCode::OK, &AdminUserPage { layout, user: row, locked, factors, events, notice }, csrf_cookie)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::from(id.into_inner());
    let role = Role::try_from(form.role.as_str()).map_err(|_| {
        PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Not possible", "Choose admin or user.")
    })?;
    let by = admin.actor();
    lifecycle::set_role(&state.pool, &user_id, role, by, &client).await.map_err(refusal)?;
    Ok(see_other(&format!("/admin/users/{user_id}?done=role"), []))
}

pub async fn end_sessions(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::from(id.into_inner());
    let by = admin.actor();
    lifecycle::end_all_sessions(&state.pool, &user_id, by, &client).await.map_err(refusal)?;
    Ok(see_other(&format!("/admin/users/{user_id}?done=sessions"), []))
}

pub async fn unlock(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::from(id.into_inner());
    let by = admin.actor();
    lifecycle::unlock(&state.pool, &user_id, by, &client).await.map_err(refusal)?;
    Ok(see_other(&format!("/admin/users/{user_id}?done=unlock"), []))
}

pub async fn reset_factors(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::from(id.into_inner());
    two_factor::reset(&state.pool, &state.mail, &user_id, admin.actor(), &client).await.map_err(refusal)?;
    Ok(see_other(&format!("/admin/users/{user_id}?done=2fa"), []))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    /// The "yes, delete this account" box: without it nothing happens.
    confirm: Option<String>,
}

pub async fn delete_user(
    state: web::Data<AppState>,
    admin: RequireAdmin,
    client: ClientInfo,
    id: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, PageError> {
    if form.confirm.as_deref() != Some("yes") {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not deleted",
            "Tick the box to confirm that this account should be deleted, then press Delete again.",
        ));
    }
    let user_id = UserId::from(id.into_inner());
    let by = admin.actor();
    lifecycle::delete_user(&state.pool, &user_id, Some(by), &client).await.map_err(refusal)?;
    Ok(see_other("/admin/users", []))
}

/// The page for an action the rules refuse.
fn refusal(e: AccountError) -> PageError {
    match e {
        AccountError::NotFound => PageError::not_found(),
        AccountError::LastAdmin => PageError::new(
            StatusCode::CONFLICT,
            "Not possible",
            "That is the last enabled administrator: make someone else an administrator first.",
        ),
        AccountError::OwnAccount(action) => {
            PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Not possible", action.refusal())
        }
        AccountError::Store(e) => e.into(),
        e => anyhow::Error::new(e).into(),
    }
}

/// Disabling also revokes every session of the user at once.
async fn set_disabled(
    state: &AppState,
    admin: &RequireAdmin,
    client: &ClientInfo,
    user_id: &UserId,
    disabled: bool,
) -> Result<HttpResponse, PageError> {
    let by = admin.actor();
    lifecycle::set_disabled(&state.pool, user_id, disabled, by, client).await.map_err(refusal)?;
    Ok(see_other("/admin/users", []))
}
