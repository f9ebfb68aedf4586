//! A stored password hash: a secret type, so that no `Debug` print or log line shows it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct PasswordHash(SecretString);

impl PasswordHash {
    /// The PHC string, for the verifier and the compare-and-swap update only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for PasswordHash {
    fn from(phc: String) -> Self {
        Self(SecretString::from(phc))
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_never_shows_the_hash() {
        let hash = super::PasswordHash::from("$argon2id$v=19$secret".to_owned());
        assert!(!format!("{hash:?}").contains("argon2"));
    }
}
