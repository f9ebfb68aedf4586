//! Kinds of security event, parsed once where a row is read.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    RefreshReuseDetected,
    LoggedOut,
    PasswordChanged,
    SessionRevoked,
    UserDisabled,
    UserEnabled,
    Lockout,
    PasswordCheckFailed,
    PasswordReset,
    EmailVerified,
    EmailChanged,
    /// An administrator gave the account another role.
    RoleChanged,
    /// An administrator ended every session of the account.
    SessionsEnded,
    /// An administrator lifted the account's sign-in lock.
    Unlocked,
    /// On an administrator's own account: they deleted someone's account.
    UserDeleted,
    /// A correct password; the sign-in waits for the second factor.
    MfaChallenged,
    /// A wrong code at the second step.
    MfaFailed,
    TotpEnabled,
    TotpDisabled,
    /// A sign-in completed with a recovery code (each works once).
    RecoveryCodeUsed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesRenewed,
    PasskeyAdded,
    PasskeyRemoved,
    /// An administrator turned every second factor of the account off.
    SecondFactorReset,
    /// The person let an app (an OpenID Connect client) sign them in (SPEC §11).
    AppAuthorized,
    /// The person took an app's access away.
    AppRevoked,
    /// An identity at another provider was linked to the account (SPEC §13).
    ProviderLinked,
    /// The account was signed in to through another provider.
    ProviderSignIn,
    /// An identity at another provider was unlinked from the account.
    ProviderUnlinked,
    /// A kind written by a newer version (a rolling upgrade): stored as is, shown generically.
    Other(String),
}

impl EventKind {
    pub fn as_str(&self) -> &str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::LoggedOut => "logged_out",
            Self::PasswordChanged => "password_changed",
            Self::SessionRevoked => "session_revoked",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::Lockout => "lockout",
            Self::PasswordCheckFailed => "password_check_failed",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::EmailChanged => "email_changed",
            Self::RoleChanged => "role_changed",
            Self::SessionsEnded => "sessions_ended",
            Self::Unlocked => "unlocked",
            Self::UserDeleted => "user_deleted",
            Self::MfaChallenged => "mfa_challenged",
            Self::MfaFailed => "mfa_failed",
            Self::TotpEnabled => "totp_enabled",
            Self::TotpDisabled => "totp_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRenewed => "recovery_codes_renewed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::SecondFactorReset => "second_factor_reset",
            Self::AppAuthorized => "app_authorized",
            Self::AppRevoked => "app_revoked",
            Self::ProviderLinked => "provider_linked",
            Self::ProviderSignIn => "provider_sign_in",
            Self::ProviderUnlinked => "provider_unlinked",
            Self::Other(kind) => kind,
        }
    }

    /// How the account page words this kind.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::LoginSucceeded => "Signed in",
            Self::LoginFailed => "Failed sign-in attempt",
            Self::RefreshReuseDetected => "A stolen session token was replayed; that session was ended",
            Self::LoggedOut => "Signed out",
            Self::PasswordChanged => "Password changed; other sessions ended",
            Self::SessionRevoked => "A session was ended",
            Self::UserDisabled => "Account disabled by an administrator",
            Self::UserEnabled => "Account enabled by an administrator",
            Self::Lockout => "Sign-in paused after repeated failures",
            Self::PasswordCheckFailed => "Wrong current password entered while signed in",
            Self::PasswordReset => "Password reset with an emailed link; every session ended",
            Self::EmailVerified => "Email address confirmed",
            Self::EmailChanged => "Email address changed",
            Self::RoleChanged => "Role changed by an administrator",
            Self::SessionsEnded => "Every session ended by an administrator",
            Self::Unlocked => "Sign-in lock lifted by an administrator",
            Self::UserDeleted => "You deleted an account",
            Self::MfaChallenged => "Correct password; the authenticator code was asked for",
            Self::MfaFailed => "Wrong authenticator code at sign-in",
            Self::TotpEnabled => "Two-factor sign-in with an authenticator app turned on",
            Self::TotpDisabled => "Two-factor sign-in with an authenticator app turned off",
            Self::RecoveryCodeUsed => "Signed in with a recovery code",
            Self::RecoveryCodesRenewed => "New recovery codes made; the old ones no longer work",
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
            Self::SecondFactorReset => "Second factors reset by an administrator",
            Self::AppAuthorized => "An app was allowed to sign you in",
            Self::AppRevoked => "An app's access was revoked",
            Self::ProviderLinked => "A sign-in provider was connected",
            Self::ProviderSignIn => "Signed in through another provider",
            Self::ProviderUnlinked => "A sign-in provider was disconnected",
            Self::Other(_) => "Security event",
        }
    }
}

impl From<String> for EventKind {
    fn from(raw: String) -> Self {
        const KNOWN: [EventKind; 31] = [
            EventKind::LoginSucceeded,
            EventKind::LoginFailed,
            EventKind::RefreshReuseDetected,
            EventKind::LoggedOut,
            EventKind::PasswordChanged,
            EventKind::SessionRevoked,
            EventKind::UserDisabled,
            EventKind::UserEnabled,
            EventKind::Lockout,
            EventKind::PasswordCheckFailed,
            EventKind::PasswordReset,
            EventKind::EmailVerified,
            EventKind::EmailChanged,
            EventKind::RoleChanged,
            EventKind::SessionsEnded,
            EventKind::Unlocked,
            EventKind::UserDeleted,
            EventKind::MfaChallenged,
            EventKind::MfaFailed,
            EventKind::TotpEnabled,
            EventKind::TotpDisabled,
            EventKind::RecoveryCodeUsed,
            EventKind::RecoveryCodesRenewed,
            EventKind::PasskeyAdded,
            EventKind::PasskeyRemoved,
            EventKind::SecondFactorReset,
            EventKind::AppAuthorized,
            EventKind::AppRevoked,
            EventKind::ProviderLinked,
            EventKind::ProviderSignIn,
            EventKind::ProviderUnlinked,
        ];
        KNOWN.into_iter().find(|k| k.as_str() == raw).unwrap_or(EventKind::Other(raw))
    }
}

impl From<EventKind> for String {
    fn from(kind: EventKind) -> Self {
        kind.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn kinds_round_trip_and_unknown_ones_are_shown_generically() {
        assert_eq!(EventKind::from("lockout".to_owned()), EventKind::Lockout);
        assert_eq!(EventKind::from("passkey_added".to_owned()), EventKind::PasskeyAdded);
        let newer = EventKind::from("hardware_key_lost".to_owned());
        assert_eq!(newer.as_str(), "hardware_key_lost");
        assert_eq!(newer.describe(), "Security event");
    }
}
