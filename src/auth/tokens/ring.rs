//! The asymmetric key ring as a running instance holds it: the key file's live keys, swapped
//! for a fresh copy when the file changes. Rereading happens at least every
//! [`RELOAD_EVERY_SECS`](crate::keys::RELOAD_EVERY_SECS) (a task started by `startup`) and when
//! a token names a key this instance has not seen (at most once a second), so a rotation on
//! one host reaches every instance without a restart (SPEC §6).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};

use crate::auth::tokens::claims::{Checks, Claims, TokenError};
use crate::db;
use crate::keys::{Alg, KeyFile, SigningPair};

/// Rereads prompted by unknown `kid`s happen at most this often: a flood of made-up key
/// ids must not turn into a flood of file reads.
const UNKNOWN_KID_RELOAD_MS: i64 = 1_000;

pub struct Reloadable {
    path: PathBuf,
    /// The access tokens' algorithm (`PORTCULLIS_JWT_ALG`): its active key signs them.
    access_alg: Alg,
    /// How long a retired key keeps verifying, in seconds.
    pub overlap: i64,
    checks: Checks,
    /// The server secret's id: a file with another secret is not this deployment's ring.
    master_id: String,
    current: ArcSwap<Loaded>,
    last_reload_ms: AtomicI64,
}

/// One reading of the key file.
struct Loaded {
    /// The file as read, to skip rebuilding when nothing changed.
    text: String,
    /// Live keys, active ones first (one per algorithm in use), then the retired ones, newest
    /// first.
    keys: Vec<Verifier>,
    legacy_hs256_until: Option<i64>,
}

struct Verifier {
    pair: SigningPair,
    validation: Validation,
    retired: Option<i64>,
}

impl Reloadable {
    pub fn new(
        file: &KeyFile,
        access_alg: Alg,
        path: &Path,
        overlap: i64,
        checks: Checks,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let loaded = Loaded::build(file, text, overlap, &checks)?;
        Ok(Self {
            path: path.to_owned(),
            access_alg,
            overlap,
            checks,
            master_id: file.master.id.clone(),
            current: ArcSwap::from_pointee(loaded),
            // The first unknown kid may reread at once.
            last_reload_ms: AtomicI64::new(now_ms() - UNKNOWN_KID_RELOAD_MS),
        })
    }

    /// Rereads the file; `Ok(true)` when the ring changed.
    pub fn reload(&self) -> anyhow::Result<bool> {
        self.last_reload_ms.store(now_ms(), Ordering::Relaxed);
        let text = std::fs::read_to_string(&self.path)
            .with_context(|| format!("cannot read the key file {}", self.path.display()))?;
        if text == self.current.load().text {
            return Ok(false);
        }
        let Some(file) = KeyFile::parse(&text, &self.path)? else {
            bail!("the key file {} no longer holds a key ring", self.path.display());
        };
        if file.master.id != self.master_id {
            bail!("the key file {} now holds another secret; restart to use it", self.path.display());
        }
        self.current.store(Arc::new(Loaded::build(&file, text, self.overlap, &self.checks)?));
        log::info!("reloaded the key ring from {}", self.path.display());
        Ok(true)
    }

    /// The access tokens' algorithm (`PORTCULLIS_JWT_ALG`).
    pub fn access_alg(&self) -> Alg {
        self.access_alg
    }

    /// Signs an access token with the active key of the access tokens' algorithm.
    pub fn sign(&self, typ: &str, claims: &Claims) -> anyhow::Result<String> {
        self.sign_as(self.access_alg, typ, claims)
    }

    /// Signs with the active key of `alg` (an ID token's algorithm may differ from the access
    /// tokens', SPEC §11).
    pub fn sign_as(&self, alg: Alg, typ: &str, claims: &impl serde::Serialize) -> anyhow::Result<String> {
        let loaded = self.current.load();
        let key = &loaded
            .keys
            .iter()
            .find(|k| k.retired.is_none() && k.pair.alg == alg)
            .with_context(|| format!("the key ring has no active {} key", alg.as_str()))?
            .pair;
        let mut header = Header::new(key.alg.jwt());
        header.typ = Some(typ.to_owned());
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
    }

    /// Runs `check` with the key `kid` names, pinned to that key's algorithm; rereads the
    /// file first if this instance does not know `kid` (yet).
    pub fn verify<T>(
        &self,
        kid: &str,
        alg: Algorithm,
        check: impl Fn(&DecodingKey, &Validation) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        let mut loaded = self.current.load_full();
        if !loaded.keys.iter().any(|k| k.pair.kid == kid) && self.may_reload() {
            if let Err(e) = self.reload() {
                log::warn!("{e:#}");
            }
            loaded = self.current.load_full();
        }
        let key = loaded.keys.iter().find(|k| k.pair.kid == kid).ok_or(TokenError::UnknownKey)?;
        // A key retired longer ago than the overlap signs nothing live: whatever it "signed"
        // since was made by whoever else holds it (a rotation after a leak). It is refused
        // here, not only when the file is reread or the process restarts.
        if !self.is_live(key, db::now()) {
            return Err(TokenError::UnknownKey);
        }
        if key.pair.alg.jwt() != alg {
            return Err(TokenError::BadHeader);
        }
        check(&key.pair.decoding, &key.validation)
    }

    fn is_live(&self, key: &Verifier, now: i64) -> bool {
        key.retired.is_none_or(|retired| retired + self.overlap >= now)
    }

    /// Whether the key `kid` still verifies (a token verified with it before may be remembered
    /// past its retirement: the cache asks again).
    pub fn still_verifies(&self, kid: &str, now: i64) -> bool {
        self.current.load().keys.iter().any(|k| k.pair.kid == kid && self.is_live(k, now))
    }

    /// Whether an HS256 access token issued at `iat` by a version before the key ring is
    /// still accepted: only if it was issued before the upgrade (its `exp` does the rest).
    pub fn accepts_legacy(&self, iat: i64) -> bool {
        self.current.load().legacy_hs256_until.is_some_and(|until| iat <= until)
    }

    /// The public keys of every live key, newest first.
    pub fn published(&self, now: i64) -> Vec<Jwk> {
        let loaded = self.current.load();
        loaded.keys.iter().filter(|k| self.is_live(k, now)).map(|k| k.pair.jwk.clone()).collect()
    }

    fn may_reload(&self) -> bool {
        let (now, last) = (now_ms(), self.last_reload_ms.load(Ordering::Relaxed));
        now - last >= UNKNOWN_KID_RELOAD_MS
            && self.last_reload_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

impl Loaded {
    fn build(file: &KeyFile, text: String, overlap: i64, checks: &Checks) -> anyhow::Result<Self> {
        let now = db::now();
        let mut keys = Vec::with_capacity(file.keys.len());
        // The active key first, then the retired ones, newest first.
        let mut stored: Vec<_> = file.keys.iter().filter(|k| k.is_live(now, overlap)).collect();
        stored.sort_by_key(|k| (k.retired.is_none(), k.retired.unwrap_or(i64::MAX), k.created));
        for key in stored.into_iter().rev() {
            let pair = SigningPair::from_der(key.alg, &key.private)?;
            keys.push(Verifier { validation: checks.validation(key.alg.jwt()), pair, retired: key.retired });
        }
        Ok(Self { text, keys, legacy_hs256_until: file.legacy_hs256_until })
    }
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc()
        .unix_timestamp_nanos()
        .div_euclid(1_000_000)
        .try_into()
        .unwrap_or(i64::MAX)
}
