//! Queries on `oauth_clients`: the applications that sign people in through Portcullis.
//! Redirect URIs are stored as a JSON array of strings (one schema for both backends).

use diesel::prelude::*;

use super::DbConn;
use super::schema::oauth_clients as c;

/// A registered client as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret (base64url); `None` for a public client.
    pub secret_hash: Option<String>,
    #[diesel(deserialize_as = String)]
    pub redirect_uris: UriList,
    #[diesel(deserialize_as = String)]
    pub post_logout_redirect_uris: UriList,
    pub skip_consent: bool,
    pub id_token_alg: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Registered URIs, stored as a JSON array of strings. Anything else reads as empty: a row
/// this code did not write matches no redirect URI rather than failing every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UriList(pub Vec<String>);

impl From<String> for UriList {
    fn from(text: String) -> Self {
        Self(serde_json::from_str(&text).unwrap_or_default())
    }
}

impl UriList {
    /// Whether `uri` is registered, compared exactly (no prefixes, no normalisation).
    pub fn contains(&self, uri: &str) -> bool {
        self.0.iter().any(|u| u == uri)
    }
}

fn json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

/// Stores a new client.
pub fn insert(conn: &mut DbConn, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(c::table)
        .values((
            c::id.eq(&row.id),
            c::name.eq(&row.name),
            c::secret_hash.eq(&row.secret_hash),
            c::redirect_uris.eq(json(&row.redirect_uris.0)),
            c::post_logout_redirect_uris.eq(json(&row.post_logout_redirect_uris.0)),
            c::skip_consent.eq(row.skip_consent),
            c::id_token_alg.eq(&row.id_token_alg),
            c::created_at.eq(row.created_at),
            c::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Every client, oldest first (by the second; then by name).
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ClientRow>> {
    c::table
        .order((c::created_at.asc(), c::name.asc(), c::id.asc()))
        .select(ClientRow::as_select())
        .load(conn)
}

/// The client `id`, read afresh (a change on another instance applies at the next request).
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClientRow>> {
    c::table.find(id).select(ClientRow::as_select()).first(conn).optional()
}

/// Removes the client; false when there was none.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(c::table.find(id)).execute(conn)? == 1)
}

/// Replaces a confidential client's secret hash; false when there is no such client or it is
/// public (a public client has no secret to rotate).
pub fn set_secret_hash(conn: &mut DbConn, id: &str, hash: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(c::table.find(id).filter(c::secret_hash.is_not_null()))
        .set((c::secret_hash.eq(hash), c::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Replaces the registered redirect URIs; false when there is no such client.
pub fn set_redirect_uris(
    conn: &mut DbConn,
    id: &str,
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
    now: i64,
) -> QueryResult<bool> {
    let changed = diesel::update(c::table.find(id))
        .set((
            c::redirect_uris.eq(json(redirect_uris)),
            c::post_logout_redirect_uris.eq(json(post_logout_redirect_uris)),
            c::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}
