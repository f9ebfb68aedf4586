//! The scopes an app may ask for (SPEC §11): `openid` (required: this is OpenID Connect),
//! `profile`, `email` and `offline_access` (a refresh token). Kept in this order, once each.

/// Every scope Portcullis knows, in the order it writes them.
pub const SUPPORTED: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A set of known scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Parses a space-separated `scope` parameter; `Err` names the first unknown scope.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut set = 0u8;
        for name in raw.split(' ').filter(|s| !s.is_empty()) {
            let bit = SUPPORTED.iter().position(|s| *s == name).ok_or_else(|| name.to_owned())?;
            set |= 1 << bit;
        }
        Ok(Self(set))
    }

    /// What Portcullis stored itself: unknown names (from a newer version) are dropped.
    pub fn stored(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_else(|_| {
            raw.split(' ').filter_map(|name| Self::parse(name).ok()).fold(Self::default(), Self::union)
        })
    }

    pub fn has(self, name: &str) -> bool {
        SUPPORTED.iter().position(|s| *s == name).is_some_and(|bit| self.0 & (1 << bit) != 0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Self) -> bool {
        other.0 & !self.0 == 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The names, in [`SUPPORTED`]'s order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        SUPPORTED.into_iter().enumerate().filter(move |(bit, _)| self.0 & (1 << bit) != 0).map(|(_, s)| s)
    }

    /// The `scope` string of a token answer: space-separated.
    pub fn to_param(self) -> String {
        self.names().collect::<Vec<_>>().join(" ")
    }

    /// What the consent page says each scope lets the app have.
    pub fn described(self) -> Vec<&'static str> {
        self.names()
            .map(|name| match name {
                "openid" => "Know who you are (your account's id)",
                "profile" => "See your profile (your account's name)",
                "email" => "See your email address",
                _ => "Stay signed in when you are not using it (a refresh token)",
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Scopes;

    #[test]
    fn scopes_parse_in_any_order_and_unknown_ones_are_named() {
        let s = Scopes::parse("email  openid").expect("known scopes");
        assert_eq!(s.to_param(), "openid email");
        assert!(s.has("email") && !s.has("offline_access"));
        assert_eq!(Scopes::parse("openid admin"), Err("admin".to_owned()));
        assert!(Scopes::parse("openid email offline_access").expect("known").covers(s));
        assert!(!s.covers(Scopes::parse("openid offline_access").expect("known")));
        assert_eq!(Scopes::stored("openid admin email").to_param(), "openid email");
    }
}
