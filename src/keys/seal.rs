//! Sealing what the database keeps but must not give away to someone holding only a dump: TOTP
//! secrets, and queued mail (its links carry working tokens). ChaCha20-Poly1305 under a key
//! derived from the server secret; the associated data binds a sealed value to its row (a
//! user id, a mail id), so one copied to another row does not open.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use secrecy::{ExposeSecret, SecretSlice};

const PREFIX: &str = "v1";

pub struct Sealer {
    key: SecretSlice<u8>,
}

impl Sealer {
    /// `key`: 32 bytes, from [`MasterKey::derive`](super::MasterKey::derive) with a purpose of
    /// its own.
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self { key }
    }

    fn cipher(&self) -> anyhow::Result<ChaCha20Poly1305> {
        ChaCha20Poly1305::new_from_slice(self.key.expose_secret())
            .map_err(|_| anyhow::anyhow!("the sealing key is not 32 bytes"))
    }

    /// `v1.<nonce>.<ciphertext>`, base64url: text, for a TEXT column.
    pub fn seal(&self, row: &[u8], plain: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let sealed = self
            .cipher()?
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: row })
            .map_err(|_| anyhow::anyhow!("cannot seal a value"))?;
        Ok(format!("{PREFIX}.{}.{}", URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Whether `text` has the shape [`Sealer::seal`] gives (it may still not open).
    pub fn is_sealed(text: &str) -> bool {
        let mut parts = text.split('.');
        parts.next() == Some(PREFIX) && parts.count() == 2
    }

    /// Fails when the server secret changed since the value was sealed, or it was moved to
    /// another row.
    pub fn open(&self, row: &[u8], sealed: &str) -> anyhow::Result<SecretSlice<u8>> {
        let mut parts = sealed.split('.');
        let (Some(PREFIX), Some(nonce), Some(body), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            anyhow::bail!("a sealed value in an unknown format");
        };
        let nonce: [u8; 12] = URL_SAFE_NO_PAD
            .decode(nonce)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("a sealed value with a bad nonce"))?;
        let body = URL_SAFE_NO_PAD.decode(body)?;
        let plain =
            self.cipher()?.decrypt(&Nonce::from(nonce), Payload { msg: &body, aad: row }).map_err(|_| {
                anyhow::anyhow!(
                    "a sealed value does not open: was PORTCULLIS_JWT_SECRET or the key file replaced?"
                )
            })?;
        Ok(SecretSlice::from(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_row_and_key() {
        let sealer = Sealer::new(SecretSlice::from(vec![7u8; 32]));
        let sealed = sealer.seal(b"alice", b"the secret").unwrap();
        assert!(Sealer::is_sealed(&sealed) && !Sealer::is_sealed("plain text. With dots."));
        assert!(!sealed.contains("the secret"));
        assert_eq!(sealer.open(b"alice", &sealed).unwrap().expose_secret(), b"the secret");
        assert!(sealer.open(b"bob", &sealed).is_err(), "moved to another row");
        let other = Sealer::new(SecretSlice::from(vec![8u8; 32]));
        assert!(other.open(b"alice", &sealed).is_err(), "another server secret");
    }
}
