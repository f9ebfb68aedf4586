use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// NIST SP 800-63B rev. 4 asks verifiers to accept long passphrases; 1024 bytes is far
/// beyond any real one and keeps a single hash request cheap to refuse.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// zxcvbn is super-linear in length; judging the first 100 characters is what its
/// reference implementation does too.
const STRENGTH_WINDOW: usize = 100;

/// The rules a new password must meet.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_chars: usize,
}

impl PasswordPolicy {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self { min_chars: settings.password_min }
    }
}

/// A password that passed the policy, ready to be hashed.
#[derive(Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    /// Checks `raw` against the policy. `context` holds words a guesser would try first
    /// (the email address), so a password built from them is refused too.
    pub fn parse(raw: SecretString, policy: PasswordPolicy, context: &[&str]) -> Result<Self, String> {
        let password = raw.expose_secret();
        // Judge length on the form that gets hashed (NFKC), not on the code points typed.
        let chars = password.nfkc().count();
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(format!("Passwords can be at most {MAX_PASSWORD_BYTES} bytes long."));
        }
        if chars < policy.min_chars {
            return Err(format!(
                "Use at least {} characters — a few unrelated words make a good passphrase.",
                policy.min_chars
            ));
        }
        if password.chars().any(char::is_control) {
            return Err("Passwords cannot contain control characters.".into());
        }
        let window: String = password.chars().take(STRENGTH_WINDOW).collect();
        let verdict = zxcvbn::zxcvbn(&window, context);
        if verdict.score() < zxcvbn::Score::Three {
            let hint =
                verdict.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
            return Err(format!(
                "That password is too common or too easy to guess{hint}. Try a few unrelated words."
            ));
        }
        Ok(Self(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy { min_chars: 15 };

    fn parse(p: &str) -> Result<NewPassword, String> {
        NewPassword::parse(SecretString::from(p), POLICY, &["ada@example.com"])
    }

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        assert!(parse("tangerine orbit velvet cactus").is_ok());
    }

    #[test]
    fn short_passwords_are_refused_with_the_minimum_named() {
        assert!(parse("Tr0ub4dor&3").unwrap_err().contains("15 characters"));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 15 characters, 30 bytes: long enough.
        assert!(parse("ζωηρόςκαφέςβράχ").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_with_a_helpful_message() {
        for common in [
            "passwordpassword",
            "123456789012345",
            "qwertyuiopasdfgh",
            "aaaaaaaaaaaaaaaa",
            "ada@example.com1",
        ] {
            let err = parse(common).unwrap_err();
            assert!(err.contains("too common"), "{common}: {err}");
        }
    }

    #[test]
    fn passwords_over_1024_bytes_are_refused() {
        assert!(parse(&"xkcd-battery ".repeat(100)).unwrap_err().contains("1024 bytes"));
    }
}
