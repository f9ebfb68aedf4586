//! argon2id hashing, off the actix workers and bounded to one hash per core.

use std::sync::Arc;

use actix_web::web;
use anyhow::{Context, anyhow};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    Match,
    /// Correct, but the stored hash uses weaker parameters than today's: store a new one.
    MatchNeedsRehash,
}

/// Hashes and verifies passwords. Each call waits for one of `cores` permits and then runs
/// on actix's blocking pool, so a login flood queues instead of exhausting memory
/// (each argon2 hash holds 19 MiB) or stalling the request workers.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so both paths cost one argon2 run.
    dummy_hash: Arc<str>,
}

/// OWASP's minimum for argon2id (m=19456 KiB, t=2, p=1), which is also argon2's default.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// NFKC (NIST SP 800-63B §3.1.1.2): the same password typed on keyboards that produce
/// different code points for "Å" or "ﬁ" must verify.
fn normalized(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    argon2()
        .hash_password(normalized(password).expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("argon2 hashing failed: {e}"))
}

pub fn verify_blocking(password: &SecretString, stored: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(stored) else {
        log::error!("a stored password hash is not a valid PHC string");
        return Verdict::Mismatch;
    };
    if argon2().verify_password(normalized(password).expose_secret().as_bytes(), stored).is_err() {
        return Verdict::Mismatch;
    }
    if is_current(&parsed) { Verdict::Match } else { Verdict::MatchNeedsRehash }
}

/// True when the hash was made with argon2id and at least today's parameters.
fn is_current(hash: &PasswordHash) -> bool {
    let wanted = Params::default();
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() >= wanted.m_cost() && p.t_cost() >= wanted.t_cost() && p.p_cost() >= wanted.p_cost()
        })
}

impl Hasher {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let dummy = hash_blocking(&SecretString::from("portcullis-dummy-password"))?;
        Ok(Self { permits: Arc::new(Semaphore::new(cores)), dummy_hash: dummy.into() })
    }

    pub async fn hash(&self, password: SecretString) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        web::block(move || hash_blocking(&password)).await.context("hashing task failed")?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no
    /// stored hash (unknown email), so the two cases take the same time.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> anyhow::Result<Verdict> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let dummy = Arc::clone(&self.dummy_hash);
        web::block(move || match stored {
            Some(hash) => verify_blocking(&password, &hash),
            None => {
                verify_blocking(&password, &dummy);
                Verdict::Mismatch
            }
        })
        .await
        .context("verification task failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_an_argon2id_phc_string_that_verifies() {
        let pw = SecretString::from("tangerine orbit velvet cactus");
        let hash = hash_blocking(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify_blocking(&pw, &hash), Verdict::Match);
        assert_eq!(verify_blocking(&SecretString::from("wrong"), &hash), Verdict::Mismatch);
    }

    #[test]
    fn weaker_stored_parameters_ask_for_a_rehash() {
        let pw = SecretString::from("tangerine orbit velvet cactus");
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
            .hash_password(pw.expose_secret().as_bytes())
            .unwrap()
            .to_string();
        assert_eq!(verify_blocking(&pw, &weak), Verdict::MatchNeedsRehash);
    }

    #[test]
    fn passwords_are_compared_after_nfkc_normalization() {
        // U+212B ANGSTROM SIGN and U+00C5 LATIN CAPITAL LETTER A WITH RING ABOVE.
        let hash = hash_blocking(&SecretString::from("\u{212B}ngstr\u{f6}m unit of length")).unwrap();
        assert_eq!(
            verify_blocking(&SecretString::from("\u{c5}ngstr\u{f6}m unit of length"), &hash),
            Verdict::Match
        );
        let ligature = hash_blocking(&SecretString::from("\u{fb01}nal \u{fb01}gures of speech")).unwrap();
        assert_eq!(
            verify_blocking(&SecretString::from("final figures of speech"), &ligature),
            Verdict::Match
        );
    }

    #[test]
    fn a_corrupt_stored_hash_never_matches() {
        assert_eq!(verify_blocking(&SecretString::from("x"), "not-a-hash"), Verdict::Mismatch);
    }
}
