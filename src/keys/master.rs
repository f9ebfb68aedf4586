//! The server-only secret. Purpose-specific keys are derived from it with HMAC, so a CSRF
//! token can never be replayed as a JWT signature or the reverse; a key rotation never
//! changes it. It comes from `PORTCULLIS_JWT_SECRET`, or from the key file.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};

/// 256 bits: the HS256 key size RFC 7518 §3.2 asks for.
pub const SECRET_BYTES: usize = 32;

pub struct MasterKey {
    bytes: SecretSlice<u8>,
    /// A public name for this secret: the same secret gives the same id on every instance.
    pub id: String,
}

impl MasterKey {
    /// `PORTCULLIS_JWT_SECRET`: exactly these bytes.
    pub fn from_secret(secret: &SecretString) -> Self {
        Self::from_bytes(secret.expose_secret().as_bytes().to_vec())
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let digest = Sha256::digest(&bytes);
        let id = URL_SAFE_NO_PAD.encode(&digest[..9]);
        Self { bytes: SecretSlice::from(bytes), id }
    }

    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::fill(&mut bytes[..]);
        Self::from_bytes(bytes)
    }

    /// The `kid` of the HS256 key made of these bytes. Earlier versions signed every token
    /// with it; refresh tokens still are (they are for Portcullis alone).
    pub fn hs256_kid(&self) -> String {
        format!("hs256-{}", self.id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = MasterKey::from_secret(&SecretString::from("0123456789abcdef0123456789abcdef"));
        assert_ne!(key.derive("jwt").expose_secret(), key.derive("csrf").expose_secret());
    }
}
