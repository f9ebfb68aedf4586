//! Single-use links (password reset, email verification, email change): a random 256-bit
//! token goes into the mailed link; only its SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::db::tokens::{self, OneTimeToken};
use crate::db::{self, Pool, StoreError};

/// A new random token and the hash that is stored in its place.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The stored link behind `token` when it is still usable (not used, not expired). Reading it
/// never uses it up: mail scanners prefetch links.
pub async fn usable(
    pool: &Pool,
    token: &str,
    purpose: &'static str,
) -> Result<Option<OneTimeToken>, StoreError> {
    let hash = token_hash(token);
    let found = db::query(pool, move |conn| tokens::find(conn, &hash, purpose)).await?;
    Ok(found.filter(|t| t.is_usable(db::now())))
}
