//! The server's secret key material: from `PORTCULLIS_JWT_SECRET`, or generated once and
//! kept in a file only the owner can read, so a restart signs nobody out.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};

use crate::config::Settings;

/// 256 bits: the HS256 key size RFC 7518 §3.2 asks for.
const GENERATED_KEY_BYTES: usize = 32;

/// The master secret. Purpose-specific keys are derived from it with HMAC so that a CSRF
/// token can never be replayed as a JWT signature or the reverse.
pub struct MasterKey {
    bytes: SecretSlice<u8>,
    /// A public name for this key (JWT `kid`): the same secret gives the same id on
    /// every instance.
    pub id: String,
}

impl MasterKey {
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.jwt_secret {
            Some(secret) => Ok(Self::from_secret(secret)),
            None => Self::from_file(&settings.key_file),
        }
    }

    pub fn from_secret(secret: &SecretString) -> Self {
        Self::from_bytes(secret.expose_secret().as_bytes().to_vec())
    }

    fn from_bytes(bytes: Vec<u8>) -> Self {
        let digest = Sha256::digest(&bytes);
        let id = URL_SAFE_NO_PAD.encode(&digest[..9]);
        Self { bytes: SecretSlice::from(bytes), id }
    }

    /// Reads the key file, creating it with a new key when it is missing or empty. Several
    /// instances starting at once must end up with one key: the file is created with
    /// O_EXCL, and read or filled only under an exclusive `flock`, so the first instance to
    /// hold the lock writes the key and every other one reads it.
    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let mut file = open_or_create(path)?;
        let _lock = Flock::exclusive(&file)
            .with_context(|| format!("cannot lock the key file {}", path.display()))?;
        tighten_permissions(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .with_context(|| format!("cannot read the key file {}", path.display()))?;
        if text.trim().is_empty() {
            return Self::generate(&mut file, path);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .with_context(|| format!("the key file {} is not base64url", path.display()))?;
        if bytes.len() < GENERATED_KEY_BYTES {
            bail!("the key file {} holds fewer than 32 bytes", path.display());
        }
        Ok(Self::from_bytes(bytes))
    }

    fn generate(file: &mut fs::File, path: &Path) -> anyhow::Result<Self> {
        let mut bytes = vec![0u8; GENERATED_KEY_BYTES];
        rand::fill(&mut bytes[..]);
        file.set_len(0)
            .and_then(|()| file.write_all(URL_SAFE_NO_PAD.encode(&bytes).as_bytes()))
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        log::info!("generated a new signing key in {}", path.display());
        Ok(Self::from_bytes(bytes))
    }

    /// The bytes the HS256 key is made of: exactly `PORTCULLIS_JWT_SECRET` when set.
    pub fn signing_bytes(&self) -> &[u8] {
        self.bytes.expose_secret()
    }

    /// HMAC-SHA256(master, purpose): an independent key per use.
    pub fn derive(&self, purpose: &str) -> SecretSlice<u8> {
        SecretSlice::from(hmac_sha256(self.bytes.expose_secret(), purpose.as_bytes()).to_vec())
    }
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length (RFC 2104 §2), so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares two MACs without an early exit, so the time taken says nothing about where
/// they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Creates the key file (O_EXCL, mode 0600) or opens the one that is there.
fn open_or_create(path: &Path) -> anyhow::Result<fs::File> {
    let created = OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open the key file {}", path.display())),
        Err(e) => Err(e).with_context(|| format!("cannot create the key file {}", path.display())),
    }
}

/// An exclusive advisory lock on an open file, released when dropped (declare it after the
/// file, so it is dropped first).
struct Flock(std::os::fd::RawFd);

impl Flock {
    fn exclusive(file: &fs::File) -> std::io::Result<Self> {
        let fd = file.as_raw_fd();
        // SAFETY: flock only reads the descriptor, which the caller keeps open for the lock's life.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } == 0 {
            Ok(Self(fd))
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        // SAFETY: as above; unlocking a descriptor this lock locked.
        unsafe { libc::flock(self.0, libc::LOCK_UN) };
    }
}

fn tighten_permissions(path: &Path) -> anyhow::Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        log::warn!("the key file {} was readable by others; restricting it to the owner", path.display());
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_owner_only_and_reloaded_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = MasterKey::from_file(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let second = MasterKey::from_file(&path).unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(first.derive("x").expose_secret(), second.derive("x").expose_secret());
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = MasterKey::from_secret(&SecretString::from("0123456789abcdef0123456789abcdef"));
        assert_ne!(key.derive("jwt").expose_secret(), key.derive("csrf").expose_secret());
    }
}
