//! An app's access token at the door (SPEC §11): verified against its own audience, then its
//! `gid` looked up, so a revoked grant, a reused code or a password change ends it at once.
//! Only userinfo and a host's handlers that opt in accept it; everywhere else the guard marks
//! the request with it so that the answer is 403 `insufficient_scope`, never the account.

use super::scope::Scopes;
use crate::auth::tokens::KeyRing;
use crate::db::{self, Pool, StoreError, clients, oauth};
use crate::domain::UserId;

/// A verified app token.
#[derive(Debug, Clone)]
pub struct AppCaller {
    /// The app the token was issued to.
    pub client_id: String,
    /// The scopes it carries.
    pub scopes: Scopes,
    /// The person it acts for; `None` for a `client_credentials` token (the app itself).
    pub user: Option<AppUser>,
}

/// The person behind an app token, as the database has them now.
#[derive(Debug, Clone)]
pub struct AppUser {
    pub user_id: UserId,
    pub email: String,
    pub email_verified: bool,
}

/// Checks `token` as an app's access token: `Ok(None)` when it is not one, or no longer good.
pub async fn check(pool: &Pool, keys: &KeyRing, token: &str) -> Result<Option<AppCaller>, StoreError> {
    if !keys.provider_on() {
        return Ok(None);
    }
    let Ok(claims) = keys.decode_app(token, db::now()) else { return Ok(None) };
    let scopes = Scopes::stored(&claims.scope);
    match claims.gid {
        Some(gid) => {
            let row = db::query_read(pool, move |conn| oauth::find_app_guard_row(conn, &gid)).await?;
            Ok(row.filter(|r| r.user_id == claims.sub && r.client_id == claims.client_id).map(|r| {
                AppCaller {
                    client_id: r.client_id,
                    scopes,
                    user: Some(AppUser {
                        user_id: UserId::from(r.user_id),
                        email: r.email,
                        email_verified: r.email_verified,
                    }),
                }
            }))
        }
        None => {
            let id = claims.client_id.clone();
            let exists = db::query_read(pool, move |conn| clients::find(conn, &id)).await?.is_some();
            Ok((exists && claims.sub == claims.client_id).then_some(AppCaller {
                client_id: claims.client_id,
                scopes,
                user: None,
            }))
        }
    }
}
