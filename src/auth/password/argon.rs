//! argon2id itself (OWASP's parameters), with passwords compared after NFKC: hashing,
//! verifying in constant time, and telling a hash made with weaker parameters.

use std::cell::RefCell;

use anyhow::anyhow;
use argon2::password_hash::phc::Output;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};
use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    Match,
    /// Correct, but the stored hash uses weaker parameters than today's: store a new one.
    MatchNeedsRehash,
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
    if !matches_hash(normalized(password).expose_secret().as_bytes(), &parsed) {
        return Verdict::Mismatch;
    }
    if is_current(&parsed) { Verdict::Match } else { Verdict::MatchNeedsRehash }
}

thread_local! {
    /// argon2's working memory, kept per thread and reused: allocating and faulting in
    /// 19 MiB afresh made every verification about a third slower.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Recomputes the hash with the stored algorithm, version, parameters and salt, and
/// compares in constant time (phc's `Output` equality).
fn matches_hash(password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(hash) else { return false };
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    let computed = MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            &mut out,
            &mut memory[..blocks],
        )
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
}

/// True when the hash was made with argon2id and at least today's parameters.
fn is_current(hash: &PasswordHash) -> bool {
    let wanted = Params::default();
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() >= wanted.m_cost() && p.t_cost() >= wanted.t_cost() && p.p_cost() >= wanted.p_cost()
        })
}
