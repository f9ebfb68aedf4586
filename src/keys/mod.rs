//! The key file and what it holds: the server-only secret that CSRF tokens, device cookies
//! and refresh chains are derived from, the ring of signing keys other services verify, and
//! the sealing of what the database must not give away (`seal.rs`).

mod disk;
pub mod file;
pub mod master;
pub mod seal;
pub mod signing;

pub use file::{KeyFile, StoredKey};
pub use master::{MasterKey, constant_time_eq, hmac_sha256};
pub use seal::Sealer;
pub use signing::{Alg, SigningPair};

/// How often a running instance rereads the key file at the latest (SPEC §6), so a rotation
/// on one host reaches every instance without a restart.
pub const RELOAD_EVERY_SECS: i64 = 60;

/// How long a retired key keeps verifying: an instance that has not yet reread the file may
/// sign with it for up to one reload interval more (at most [`RELOAD_EVERY_SECS`]), what it
/// signs lives one access lifetime, plus the clock leeway. After that it verifies nothing, on
/// any instance, restarted or not: whatever it "signed" since came from someone else.
pub fn retire_overlap(access_ttl_secs: i64, reload_secs: i64, leeway_secs: i64) -> i64 {
    reload_secs.clamp(1, RELOAD_EVERY_SECS) + access_ttl_secs + leeway_secs.max(0)
}
