use std::fmt;

use unicode_normalization::is_nfkc;

/// An email address: one bare address (`name@example.com`, never `Name <…>` or a quoted local
/// part), trimmed and lower-cased so that uniqueness and look-ups are case-insensitive, and
/// parsed by `lettre::Address` — the parser the mail transport uses — so the address shown on
/// every page is exactly the one mail goes to. Characters that draw nothing or reorder the
/// text around them (Unicode format characters such as U+200B or U+202E), and compatibility
/// forms such as a fullwidth `＠`, are refused: two accounts must never read alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 octets.
const MAX_LEN: usize = 254;

/// Unicode format characters (category Cf) that draw nothing or change the direction of the
/// text after them: zero-width spaces and joiners, direction marks, embeddings, overrides and
/// isolates, word joiners and invisible operators, the byte-order mark, the soft hyphen.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

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
        if email.chars().any(is_invisible_format) || !is_nfkc(&email) {
            return Err(
                "That email address holds invisible or look-alike characters: type it with ordinary letters.",
            );
        }
        if email.contains(['"', '<', '>', '(', ')', ',', ';', '\\']) || email.matches('@').count() != 1 {
            return Err("Enter one email address like name@example.com, without a name or quotes around it.");
        }
        match email.parse::<lettre::Address>() {
            Ok(address) if !address.domain().starts_with('[') => Ok(Self(address.to_string())),
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

    #[test]
    fn only_a_bare_address_is_an_address() {
        for bad in [
            "n0<t@victim.test>",
            "ceo\u{FF20}corp.example<attacker@evil.example>",
            "ceo\u{FF20}corp.example@evil.example",
            "Ada <ada@example.com>",
            "\"a b\"@example.com",
            "\"ada\"@example.com",
            "ada@example.com, bob@example.com",
            "ada@[127.0.0.1]",
            "ada(comment)@example.com",
        ] {
            assert!(Email::try_from(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["o'brien@example.com", "first.last+tag@sub.example.co.uk", "ada@xn--bcher-kva.example"] {
            assert_eq!(Email::try_from(good).unwrap().as_ref(), good);
        }
    }

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        for bad in [
            "\u{202E}moc.elpmaxe@nimda",
            "admin\u{200B}@example.com",
            "admin@example.com\u{FEFF}",
            "ad\u{2066}min@example.com",
            "admin\u{061C}@example.com",
            "ad\u{00AD}min@example.com",
        ] {
            assert!(Email::try_from(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
