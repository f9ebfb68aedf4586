//! The "Sign in with NAME" links on the sign-in page (SPEC §13).

use crate::db;
use crate::state::AppState;

/// A "Sign in with NAME" link.
pub struct ProviderLink {
    pub name: String,
    pub href: String,
}

/// The sign-in providers' links, `next` carried through (none if the list cannot be read: the
/// password form still works).
pub(super) async fn provider_links(state: &AppState, next: &str) -> Vec<ProviderLink> {
    let names = db::query(&state.pool, crate::db::providers::list).await.unwrap_or_default();
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    names
        .into_iter()
        .map(|p| ProviderLink { href: format!("/login/provider/{}?{query}", p.name), name: p.name })
        .collect()
}
