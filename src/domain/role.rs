use std::fmt;

/// What a user may do. Stored as text (`user` | `admin`), checked by a CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everyone.
    User,
    /// The admin pages and API; `RequireAdmin`.
    Admin,
}

impl Role {
    /// `user` or `admin`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl TryFrom<&str> for Role {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        match raw {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// A role the database holds that this version does not know: never read as `user`.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} in the database")]
pub struct UnknownRole(String);

/// Parsed once where the row is read (Diesel's `deserialize_as`): an unknown value fails
/// the query instead of quietly becoming `user`.
impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Role::try_from(raw.as_str()).map_err(|_| UnknownRole(raw))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn an_unknown_stored_role_is_an_error_never_user() {
        assert_eq!(Role::try_from("admin".to_owned()).ok(), Some(Role::Admin));
        assert!(Role::try_from("superuser".to_owned()).is_err());
        assert!(Role::try_from("User".to_owned()).is_err());
    }
}
