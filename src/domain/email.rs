use std::fmt;

/// An email address, trimmed and lower-cased so that uniqueness and look-ups are
/// case-insensitive. Deliberately permissive beyond the basic shape: the only real
/// test of an address is mail reaching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 octets.
const MAX_LEN: usize = 254;

impl TryFrom<&str> for Email {
    type Error = &'static str;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.");
        }
        if email.len() > MAX_LEN {
            return Err("That email address is too long.");
        }
        if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("An email address cannot contain spaces or control characters.");
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(Self(email))
            }
            _ => Err("Enter an email address like name@example.com."),
        }
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::try_from("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_ref(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in
            ["", "ada", "@example.com", "ada@", "a b@example.com", "ada@@x.com", "ada@x.com\u{0}", "ada@.com"]
        {
            assert!(Email::try_from(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::try_from(format!("{}@x.com", "a".repeat(300)).as_str()).is_err());
    }
}
