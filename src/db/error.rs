//! Why a database call did not produce an answer.

/// Why a database call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had (database down, pool exhausted): worth a 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a database query failed")]
    Query(#[source] diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    /// A connection that dies mid-query means the database is unreachable, not that the
    /// query was wrong: 503, so clients retry, rather than 500.
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(format!("connection closed: {}", info.message()))
            }
            Error::BrokenTransactionManager => Self::Unavailable("broken connection".into()),
            e => Self::Query(e),
        }
    }
}
