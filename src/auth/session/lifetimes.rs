//! How long tokens and sessions live: read from the settings once at startup.

use std::time::Duration;

use crate::config::Settings;

/// Without "remember me" a session lasts at most this long (SPEC §5).
const BROWSER_SESSION_CAP: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: Duration,
    /// Idle lifetime of a remembered session; each refresh pushes it out again.
    pub refresh: Duration,
    /// Absolute lifetime; refreshing never extends it.
    pub session_max: Duration,
    /// How long the immediately previous refresh token still yields the same pair.
    pub refresh_grace: Duration,
}

impl Lifetimes {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            access: settings.access_ttl,
            refresh: settings.refresh_ttl,
            session_max: settings.session_max,
            refresh_grace: settings.refresh_grace,
        }
    }

    /// How long a session may sit unused, in seconds.
    pub fn idle_secs(&self, remember: bool) -> i64 {
        secs(if remember { self.refresh } else { self.refresh.min(BROWSER_SESSION_CAP) })
    }

    /// How long a session may last at all, in seconds.
    pub fn absolute_secs(&self, remember: bool) -> i64 {
        secs(if remember { self.session_max } else { self.session_max.min(BROWSER_SESSION_CAP) })
    }

    pub fn access_secs(&self) -> i64 {
        secs(self.access)
    }

    pub fn grace_secs(&self) -> i64 {
        secs(self.refresh_grace)
    }
}

/// Whole seconds, saturating: the unit every stored time is kept in.
pub fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
