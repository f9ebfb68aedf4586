use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::two_factor::{PasskeyView, passkeys_on};
use crate::auth::provider::scope::Scopes;
use crate::auth::{CurrentUser, Identity};
use crate::db::models::SecurityEvent;
use crate::db::{self, StoreError, events, factors, sessions};
use crate::errors::PageError;
use crate::routes::device::describe_device;
use crate::routes::format;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::render;
use crate::state::AppState;

/// How many rows of security activity the account page lists…
const EVENTS_SHOWN: usize = 20;
/// …folded from at most this many of the newest events.
const EVENTS_READ: i64 = 200;

pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_used: String,
    pub current: bool,
}

pub struct EventRow {
    pub when: String,
    pub what: &'static str,
    pub ip: String,
    pub device: String,
    /// Who caused it, when someone else did ("by admin@example.com").
    pub detail: String,
    /// Consecutive events of one kind from one place are one row ("Failed sign-in × 20"),
    /// so that a burst cannot push everything else off the page.
    pub count: usize,
}

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    layout: Layout,
    email: String,
    role: String,
    member_since: String,
    sessions: Vec<SessionRow>,
    events: Vec<EventRow>,
    notice: Option<&'static str>,
    error: Option<String>,
    password_min: usize,
    email_verified: bool,
    /// Which second factors are on (`/account/2fa` manages them), and the passkeys.
    totp_on: bool,
    passkeys: Vec<PasskeyView>,
    passkeys_on: Result<(), &'static str>,
    passkeys_return: &'static str,
    /// "Apps with access" (SPEC §11).
    apps: Vec<AppRow>,
    /// Sign-in providers connected to the account (SPEC §13), and those that could be.
    links: Vec<LinkRow>,
    connectable: Vec<String>,
}

/// A provider identity linked to the account.
pub struct LinkRow {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub since: String,
}

/// One app the person let sign them in.
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub scopes: String,
    pub since: String,
    pub last_used: String,
}

#[derive(Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

pub async fn account_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, PageError> {
    let notice = match query.done.as_deref() {
        Some("password") => Some("Your password was changed. Every other session has been signed out."),
        Some("revoked") => Some("That session has been signed out."),
        Some("others") => Some("Every other session has been signed out."),
        Some("verification") => Some("A confirmation link is on its way to your address."),
        Some("verified") => Some("Your email address is confirmed."),
        Some("passkey-added") => Some("The passkey is added: use it on the sign-in page."),
        Some("passkey-removed") => Some("The passkey is removed."),
        Some("app-revoked") => Some("That app no longer has access; its tokens stopped working."),
        Some("provider-connected") => Some("The provider is connected: it signs you in to this account now."),
        Some("provider-disconnected") => Some("The provider is disconnected."),
        Some("email") => {
            Some("A link is on its way to the new address; the change applies once you follow it.")
        }
        _ => None,
    };
    show(&req, &state, &user.0, StatusCode::OK, notice, None, []).await
}

/// Newest first, runs of the same kind from the same IP and device folded into one row.
fn fold_events(recent: Vec<SecurityEvent>) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = Vec::new();
    for e in recent {
        let device = describe_device(&e.user_agent);
        let what = e.kind.describe();
        if let Some(last) = rows.last_mut()
            && last.what == what
            && last.ip == e.ip
            && last.device == device
            && e.detail.is_none()
            && last.detail.is_empty()
        {
            last.count += 1;
            continue;
        }
        if rows.len() == EVENTS_SHOWN {
            break;
        }
        let detail = e.detail.unwrap_or_default();
        rows.push(EventRow {
            when: format::human_time(e.created_at),
            what,
            ip: e.ip,
            device,
            detail,
            count: 1,
        });
    }
    rows
}

/// Renders the account page for `identity`, optionally with a notice or an error.
pub async fn show(
    req: &HttpRequest,
    state: &AppState,
    identity: &Identity,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    let user_id = identity.user_id.clone();
    let (live, recent, (totp_on, passkeys), apps, (links, providers)) = db::run(&state.pool, move |conn| {
        let live = sessions::live_sessions(conn, &user_id, db::now())?;
        let recent = events::recent_events(conn, &user_id, EVENTS_READ)?;
        let factors = (factors::totp_is_on(conn, &user_id)?, db::passkeys::list_for_user(conn, &user_id)?);
        let apps = db::oauth::grants_of(conn, user_id.as_str())?;
        let upstream = (db::upstream::links_of(conn, user_id.as_str())?, db::providers::list(conn)?);
        Ok::<_, StoreError>((live, recent, factors, apps, upstream))
    })
    .await?;
    let connectable = providers
        .into_iter()
        .filter(|p| !links.iter().any(|l| l.issuer == p.issuer))
        .map(|p| p.name)
        .collect();
    let (layout, csrf_cookie) = layout(req, state, Some(identity));
    let page = AccountPage {
        layout,
        email: identity.email.clone(),
        role: identity.role.to_string(),
        member_since: format::human_date(identity.member_since),
        sessions: live
            .into_iter()
            .map(|s| SessionRow {
                current: s.id == identity.session_id,
                device: describe_device(&s.user_agent),
                ip: s.ip,
                created: format::human_time(s.created_at),
                last_used: format::human_time(s.last_used_at),
                id: s.id.to_string(),
            })
            .collect(),
        events: fold_events(recent),
        notice,
        error,
        password_min: state.password_policy.min_chars,
        email_verified: identity.email_verified,
        totp_on,
        passkeys: passkeys.into_iter().map(PasskeyView::from).collect(),
        passkeys_on: passkeys_on(state),
        passkeys_return: "/account",
        apps: apps
            .into_iter()
            .map(|(grant, name)| AppRow {
                scopes: Scopes::stored(&grant.scope).names().collect::<Vec<_>>().join(", "),
                since: format::human_time(grant.created_at),
                last_used: format::human_time(grant.last_used_at),
                id: grant.id,
                name,
            })
            .collect(),
        links: links
            .into_iter()
            .map(|l| LinkRow {
                since: format::human_time(l.created_at),
                provider: l.provider,
                issuer: l.issuer,
                subject: l.subject,
                email: l.email,
            })
            .collect(),
        connectable,
    };
    render(status, &page, csrf_cookie.into_iter().chain(cookies))
}
