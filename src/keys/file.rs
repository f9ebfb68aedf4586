//! The key file (`PORTCULLIS_KEY_FILE`, mode 0600): JSON with the server secret and the
//! signing keys, each with the time it was made and the time a rotation retired it.
//!
//! Several instances share the file. It is created with O_EXCL; every writer (first start,
//! upgrade, rotation) holds an exclusive `flock` on it and replaces it by an atomic rename,
//! so two instances starting at once end up with one ring, and a running instance that
//! rereads the file sees the old ring or the new one, never half of one.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};

use super::disk::{lock_exclusive, open_or_create, replace, still_at, tighten_permissions};
use super::master::{MasterKey, SECRET_BYTES};
use super::signing::Alg;

const FORMAT: u32 = 2;

pub struct KeyFile {
    pub master: MasterKey,
    /// Set when the file was upgraded from a version that signed access tokens with HS256:
    /// such tokens issued up to this time keep verifying until they expire.
    pub legacy_hs256_until: Option<i64>,
    /// Oldest first. Each algorithm in use has one active key, the newest of it that no
    /// rotation has retired: the access tokens' (`PORTCULLIS_JWT_ALG`) and the ID tokens'
    /// (RS256 unless a client asks otherwise; SPEC §11).
    pub keys: Vec<StoredKey>,
}

pub struct StoredKey {
    pub alg: Alg,
    pub created: i64,
    pub retired: Option<i64>,
    /// The private key, DER-encoded as [`Alg::generate`] makes it.
    pub private: SecretSlice<u8>,
}

/// What a file holds before any change: nothing yet, the bare base64 secret written by
/// versions before the key ring, or a ring.
enum Content {
    Empty,
    Legacy(MasterKey),
    Ring(KeyFile),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    format: u32,
    secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    legacy_hs256_until: Option<i64>,
    keys: Vec<WireKey>,
}

#[derive(Serialize, Deserialize)]
struct WireKey {
    alg: Alg,
    created: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired: Option<i64>,
    private: String,
}

impl StoredKey {
    fn generate(alg: Alg, now: i64) -> anyhow::Result<Self> {
        Ok(Self { alg, created: now, retired: None, private: alg.generate()? })
    }

    /// Whether tokens it signed may still be live, `overlap` seconds being the longest a
    /// retired key keeps verifying.
    pub fn is_live(&self, now: i64, overlap: i64) -> bool {
        self.retired.is_none_or(|retired| retired + overlap >= now)
    }
}

impl KeyFile {
    /// Opens the ring, creating it on first start and upgrading a key file of an earlier
    /// version in place (its secret stays: nobody is signed out, CSRF tokens and device
    /// cookies stay valid). `algs` are the algorithms in use, the access tokens' first. With
    /// `follow_alg`, a ring without an active key for one of them gets one, and an active key
    /// of an algorithm no longer in use is retired (`PORTCULLIS_JWT_ALG` changed).
    pub fn open(path: &Path, algs: &[Alg], now: i64, overlap: i64, follow_alg: bool) -> anyhow::Result<Self> {
        let algs = &unique(algs);
        update(path, |content| match content {
            Content::Empty => {
                log::info!("generated a new key ring ({}) in {}", names(algs), path.display());
                Ok((Self::new(MasterKey::generate(), algs, now)?, true))
            }
            Content::Legacy(master) => {
                log::info!("upgraded the key file {} to a key ring ({})", path.display(), names(algs));
                let mut ring = Self::new(master, algs, now)?;
                ring.legacy_hs256_until = Some(now);
                Ok((ring, true))
            }
            Content::Ring(mut ring) => {
                let missing: Vec<Alg> = algs.iter().copied().filter(|a| ring.active(*a).is_none()).collect();
                let unused = ring.keys.iter().any(|k| k.retired.is_none() && !algs.contains(&k.alg));
                let change = follow_alg && (!missing.is_empty() || unused);
                if change {
                    log::info!("the key ring now signs with {}", names(algs));
                    for key in ring.keys.iter_mut().filter(|k| k.retired.is_none() && !algs.contains(&k.alg))
                    {
                        key.retired = Some(now);
                    }
                    for alg in missing {
                        ring.keys.push(StoredKey::generate(alg, now)?);
                    }
                    ring.keys.retain(|k| k.is_live(now, overlap));
                }
                Ok((ring, change))
            }
        })
    }

    /// `keys rotate`: a new key of each algorithm in use (`algs`) signs from now on; the
    /// previous ones verify for `overlap` seconds more; keys retired longer ago leave the file.
    pub fn rotate_file(path: &Path, algs: &[Alg], now: i64, overlap: i64) -> anyhow::Result<Self> {
        let algs = &unique(algs);
        update(path, |content| {
            let mut ring = match content {
                Content::Ring(ring) => ring,
                Content::Empty => Self::new(MasterKey::generate(), algs, now)?,
                Content::Legacy(master) => {
                    let mut ring = Self::new(master, algs, now)?;
                    ring.legacy_hs256_until = Some(now);
                    ring
                }
            };
            ring.rotate(algs, now, overlap)?;
            Ok((ring, true))
        })
    }

    /// The file as a running instance rereads it: no lock, no change. `None` for a file that
    /// is not (yet) a ring.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Option<Self>> {
        Ok(match Content::parse(text, path)? {
            Content::Ring(ring) => Some(ring),
            Content::Empty | Content::Legacy(_) => None,
        })
    }

    fn new(master: MasterKey, algs: &[Alg], now: i64) -> anyhow::Result<Self> {
        let keys = algs.iter().map(|alg| StoredKey::generate(*alg, now)).collect::<anyhow::Result<_>>()?;
        Ok(Self { master, legacy_hs256_until: None, keys })
    }

    /// The key that signs with `alg`: the newest one of it not retired.
    pub fn active(&self, alg: Alg) -> Option<&StoredKey> {
        self.keys.iter().rev().find(|k| k.retired.is_none() && k.alg == alg)
    }

    fn rotate(&mut self, algs: &[Alg], now: i64, overlap: i64) -> anyhow::Result<()> {
        for key in self.keys.iter_mut().filter(|k| k.retired.is_none()) {
            key.retired = Some(now);
        }
        for alg in algs {
            self.keys.push(StoredKey::generate(*alg, now)?);
        }
        self.keys.retain(|k| k.is_live(now, overlap));
        if self.legacy_hs256_until.is_some_and(|until| until + overlap < now) {
            self.legacy_hs256_until = None;
        }
        Ok(())
    }

    fn to_json(&self) -> anyhow::Result<String> {
        let wire = Wire {
            format: FORMAT,
            secret: URL_SAFE_NO_PAD.encode(self.master.signing_bytes()),
            legacy_hs256_until: self.legacy_hs256_until,
            keys: self
                .keys
                .iter()
                .map(|k| WireKey {
                    alg: k.alg,
                    created: k.created,
                    retired: k.retired,
                    private: URL_SAFE_NO_PAD.encode(k.private.expose_secret()),
                })
                .collect(),
        };
        Ok(serde_json::to_string_pretty(&wire)? + "\n")
    }
}

impl Content {
    fn parse(text: &str, path: &Path) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::Empty);
        }
        let secret = |encoded: &str| -> anyhow::Result<MasterKey> {
            let bytes = URL_SAFE_NO_PAD
                .decode(encoded)
                .with_context(|| format!("the key file {} is not base64url", path.display()))?;
            if bytes.len() < SECRET_BYTES {
                bail!("the key file {} holds fewer than 32 bytes", path.display());
            }
            Ok(MasterKey::from_bytes(bytes))
        };
        if !text.starts_with('{') {
            return Ok(Self::Legacy(secret(text)?));
        }
        let wire: Wire = serde_json::from_str(text)
            .with_context(|| format!("the key file {} is not a key ring", path.display()))?;
        if wire.format != FORMAT {
            bail!("the key file {} was written by another version (format {})", path.display(), wire.format);
        }
        let keys = wire
            .keys
            .into_iter()
            .map(|k| {
                let private = URL_SAFE_NO_PAD
                    .decode(&k.private)
                    .with_context(|| format!("a key in {} is not base64url", path.display()))?;
                Ok(StoredKey { alg: k.alg, created: k.created, retired: k.retired, private: private.into() })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let ring =
            KeyFile { master: secret(&wire.secret)?, legacy_hs256_until: wire.legacy_hs256_until, keys };
        if ring.keys.iter().all(|k| k.retired.is_some()) {
            bail!("the key file {} has no active key", path.display());
        }
        Ok(Self::Ring(ring))
    }
}

/// `algs` without repeats, in their order (one active key per algorithm).
fn unique(algs: &[Alg]) -> Vec<Alg> {
    let mut seen = Vec::with_capacity(algs.len());
    for alg in algs {
        if !seen.contains(alg) {
            seen.push(*alg);
        }
    }
    seen
}

fn names(algs: &[Alg]) -> String {
    algs.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" + ")
}

/// Runs `change` on the file's content under an exclusive lock and writes what it returns
/// when it says so. The lock is on the file's inode, and a writer replaces the inode: a
/// waiter that wakes up to find another file at `path` starts over on that one.
fn update(
    path: &Path,
    change: impl Fn(Content) -> anyhow::Result<(KeyFile, bool)>,
) -> anyhow::Result<KeyFile> {
    loop {
        let mut file = open_or_create(path)?;
        lock_exclusive(&file).with_context(|| format!("cannot lock the key file {}", path.display()))?;
        if !still_at(path, &file)? {
            continue;
        }
        tighten_permissions(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .with_context(|| format!("cannot read the key file {}", path.display()))?;
        let (ring, write) = change(Content::parse(&text, path)?)?;
        if write {
            replace(path, &ring.to_json()?)?;
        }
        // Dropping `file` closes it, which releases the lock.
        return Ok(ring);
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
