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

/// For an app's own handlers (`portcullis::database`): 503 when the database cannot be
/// reached, else 500, the cause logged. The body is left bare: Portcullis's app layer gives it
/// the shape of the route (JSON under the API policy, an error page under the page policy).
impl actix_web::ResponseError for StoreError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            Self::Unavailable(_) => actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            Self::Query(_) => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let error = format!("{:#}", anyhow::anyhow!("{self}: {}", self.cause()));
        log::error!(error = error.as_str(); "a database call failed");
        actix_web::HttpResponse::new(self.status_code())
    }
}

impl StoreError {
    fn cause(&self) -> String {
        match self {
            Self::Unavailable(reason) => reason.clone(),
            Self::Query(e) => e.to_string(),
        }
    }
}
