//! What the base layout shows on every page: who is signed in, and the CSRF token its forms carry.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;

use crate::auth::Identity;
use crate::auth::web::csrf_forms::token_for;
use crate::domain::Role;
use crate::state::AppState;

#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub user_email: Option<String>,
    pub is_admin: bool,
    pub csrf_token: String,
    /// Links to `/register` are shown only while registration is open.
    pub registration_open: bool,
    /// A host app's own links, shown first in the navigation.
    pub links: Vec<NavLink>,
}

/// A link in the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub label: String,
    pub href: String,
}

/// The layout for this request, plus a fresh CSRF cookie when the browser has none
/// that is valid for its current session.
pub fn layout(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&Identity>,
) -> (Layout, Option<Cookie<'static>>) {
    let (csrf_token, cookie) = token_for(req, &state.csrf, &state.cookies);
    let layout = Layout {
        user_email: identity.map(|i| i.email.clone()),
        is_admin: identity.is_some_and(|i| i.role == Role::Admin),
        csrf_token,
        registration_open: state.registration.is_open(),
        links: Vec::new(),
    };
    (layout, cookie)
}
