//! Why a sign-in through a provider did not go through (SPEC §13).

use super::discovery::Unreachable;
use crate::db::StoreError;

/// Why a sign-in through a provider did not go through; each is a page for the person.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("there is no sign-in provider named {0:?}")]
    UnknownProvider(String),
    /// The callback does not belong to a sign-in this browser started (forged, replayed, too
    /// late, or opened in another browser).
    #[error(
        "this sign-in link is not valid (it was used, has expired, or was started in another browser); start again"
    )]
    InvalidState,
    /// The provider said no (the person cancelled, or the provider refused).
    #[error("the provider did not sign you in: {0}")]
    Refused(String),
    /// The provider's answer could not be trusted or reached.
    #[error("the provider's answer could not be used: {0}")]
    Untrusted(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Unreachable> for FlowError {
    fn from(e: Unreachable) -> Self {
        Self::Untrusted(e.0)
    }
}
