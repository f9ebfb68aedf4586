//! Queries on `upstream_providers`: the identity providers people may sign in with (SPEC §13).

use diesel::prelude::*;

use super::DbConn;
use super::schema::upstream_providers as p;

/// A provider as stored (its secret sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = p)]
pub struct ProviderRow {
    pub name: String,
    /// `oidc` or `github`.
    pub kind: String,
    /// The OpenID Connect issuer; GitHub's web base URL.
    pub issuer: String,
    /// GitHub's API base URL.
    pub api_url: Option<String>,
    pub client_id: String,
    pub secret_sealed: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Stores a new provider; false when the name is taken.
pub fn insert(conn: &mut DbConn, row: &ProviderRow) -> QueryResult<bool> {
    super::unless_taken(diesel::insert_into(p::table).values(row).execute(conn))
}

/// Every provider, by name.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ProviderRow>> {
    p::table.order(p::name.asc()).select(ProviderRow::as_select()).load(conn)
}

/// The provider `name`, read afresh (a change on another instance applies at the next request).
pub fn find(conn: &mut DbConn, name: &str) -> QueryResult<Option<ProviderRow>> {
    p::table.find(name).select(ProviderRow::as_select()).first(conn).optional()
}

/// Removes the provider; false when there was none.
pub fn delete(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    Ok(diesel::delete(p::table.find(name)).execute(conn)? == 1)
}
