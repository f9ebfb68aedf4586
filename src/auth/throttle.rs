//! Throttling of password guesses and other costly requests (OWASP ASVS 2.2.1): a growing
//! back-off after a number of free attempts, never a permanent lockout. Every attempt is
//! counted *before* its hash runs, in one atomic statement, so a burst of parallel guesses
//! gets no more verdicts than a sequence of them.

use crate::auth::client::ClientInfo;
use crate::config::Settings;
use crate::db::throttle::{self, Budget};
use crate::db::{self, DbConn, Pool, StoreError};
use crate::domain::UserId;

/// Attempts allowed before a pause, per account and per client IP.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub per_account: i64,
    pub per_ip: i64,
}

impl ThrottleLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        Self { per_account: settings.throttle_account, per_ip: settings.throttle_ip }
    }
}

/// The first pause lasts this long; each further attempt doubles it…
const FIRST_LOCK_SECS: i64 = 30;
/// …up to this cap.
const MAX_LOCK_SECS: i64 = 15 * 60;
/// A counter with no attempt for this long (and no pause running) starts over.
pub const FORGET_AFTER_SECS: i64 = 60 * 60;
/// Registrations one client IP may make in a row before it is slowed down.
const REGISTRATIONS_PER_IP: i64 = 10;

/// Paused for these keys; try again after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

/// A throttle counter: what is being guessed at, or from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// Sign-ins to one account from clients without its device cookie.
    pub fn account(email: &str) -> Self {
        Self(format!("account:{email}"))
    }

    /// Sign-ins from one browser that has signed in to the account before (device cookie).
    pub fn device(nonce: &str) -> Self {
        Self(format!("device:{nonce}"))
    }

    /// Guesses at the current password by someone holding a session (password change).
    pub fn reauth(user_id: &UserId) -> Self {
        Self(format!("reauth:{user_id}"))
    }

    /// Guesses at one account's second-factor codes (sign-in step, confirmation).
    pub fn second_factor(user_id: &UserId) -> Self {
        Self(format!("code:{user_id}"))
    }

    /// Recovery mails requested from one client IP (IPv6: its /64).
    pub fn mail_ip(client: &ClientInfo) -> Option<Self> {
        client_net(client).map(|net| Self(format!("mail-ip:{net}")))
    }

    /// Mails of one kind queued for one address (`reset_password`, `verify_email`, …): each
    /// kind has a budget of its own, so one kind can never silence another.
    pub fn mail_to(kind: &str, email: &str) -> Self {
        Self(format!("mail-to:{kind}:{email}"))
    }

    /// Failed sign-ins from one client IP (IPv6: its /64).
    pub fn ip(client: &ClientInfo) -> Option<Self> {
        client_net(client).map(|net| Self(format!("ip:{net}")))
    }

    /// Passkey ceremonies started from one client IP (IPv6: its /64).
    pub fn passkey_ip(client: &ClientInfo) -> Option<Self> {
        client_net(client).map(|net| Self(format!("passkey:{net}")))
    }

    /// An OpenID Connect client's failed authentications from one network (SPEC §11): per
    /// network, so a stranger's guesses never pause the real app.
    pub fn client(client_id: &str, from: &ClientInfo) -> Self {
        Self(format!("client:{client_id}:{}", client_net(from).unwrap_or_default()))
    }

    /// Registrations from one client IP (IPv6: its /64).
    pub fn registration(client: &ClientInfo) -> Option<Self> {
        client_net(client).map(|net| Self(format!("register:{net}")))
    }
}

/// IPv4 clients are counted per address, IPv6 clients per /64: one host is usually handed a
/// whole /64, and counting each of its 2^64 addresses apart would make the limit moot.
fn client_net(client: &ClientInfo) -> Option<String> {
    match client.ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.to_string()),
        // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client.
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(v4.to_string()),
            None => {
                let s = v6.segments();
                Some(format!("{}/64", std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
            }
        },
    }
}

fn budget(free: i64, now: i64) -> Budget {
    Budget {
        free,
        first_lock: FIRST_LOCK_SECS,
        max_lock: MAX_LOCK_SECS,
        forget_before: now - FORGET_AFTER_SECS,
    }
}

/// An attempt that was counted and may go ahead.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    /// This attempt used up the last free one: a pause now runs for the next.
    pub started_pause: bool,
}

/// Counts one attempt against `key`, which allows `free` before a pause; refused without
/// counting while a pause runs.
pub async fn attempt(pool: &Pool, key: &Key, free: i64) -> Result<Result<Counted, Throttled>, StoreError> {
    let key = key.0.clone();
    let now = db::now();
    db::query(pool, move |conn| {
        let budget = budget(free, now);
        Ok(match throttle::count_attempt(conn, &key, now, &budget)? {
            Some(counted) => Ok(Counted { started_pause: counted.locked_until > now }),
            None => {
                let until = throttle::locked_until(conn, &key)?;
                Err(Throttled { retry_after_secs: u64::try_from(until - now).unwrap_or(1).max(1) })
            }
        })
    })
    .await
}

/// [`attempt`] inside the caller's transaction: `false` while a pause runs (nothing counted).
/// Counted only if the transaction commits — a mail budget counts the mails actually queued.
pub fn attempt_in(conn: &mut DbConn, key: &Key, free: i64) -> diesel::QueryResult<bool> {
    let now = db::now();
    Ok(throttle::count_attempt(conn, &key.0, now, &budget(free, now))?.is_some())
}

/// One registration from this client: a few in a row are free, then they slow down.
pub async fn registration(pool: &Pool, client: &ClientInfo) -> Result<Result<(), Throttled>, StoreError> {
    match Key::registration(client) {
        Some(key) => Ok(attempt(pool, &key, REGISTRATIONS_PER_IP).await?.map(drop)),
        None => Ok(Ok(())),
    }
}

/// A correct password: the guessed-at key starts over; the IP gets its attempt back (but
/// keeps its count otherwise: one good account must not reset an attacker's budget for
/// guessing others).
pub async fn succeeded(pool: &Pool, key: Option<Key>, ip: Option<Key>) -> Result<(), StoreError> {
    db::query(pool, move |conn| {
        if let Some(key) = key {
            throttle::clear(conn, &key.0)?;
        }
        if let Some(ip) = ip {
            throttle::refund(conn, &ip.0)?;
        }
        Ok(())
    })
    .await
}

/// Whether any of these counters is pausing attempts right now (the admin page shows a lock).
pub async fn any_locked(pool: &Pool, keys: &[Key]) -> Result<bool, StoreError> {
    let keys: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let now = db::now();
    db::query(pool, move |conn| {
        for key in &keys {
            if throttle::locked_until(conn, key)? > now {
                return Ok(true);
            }
        }
        Ok(false)
    })
    .await
}

/// Clears these counters (an administrator lifting a lock).
pub async fn forget(pool: &Pool, keys: &[Key]) -> Result<(), StoreError> {
    let keys: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    db::query(pool, move |conn| keys.iter().try_for_each(|key| throttle::clear(conn, key))).await
}

#[cfg(test)]
mod tests {
    use super::{ClientInfo, Key, budget};

    #[test]
    fn ip_keys_are_per_ipv4_address_and_per_ipv6_64() {
        let key = |ip: &str| Key::ip(&ClientInfo { ip: ip.into(), user_agent: String::new() }).map(|k| k.0);
        assert_eq!(key("203.0.113.9").as_deref(), Some("ip:203.0.113.9"));
        assert_eq!(key("2001:db8:1:2:3:4:5:6").as_deref(), Some("ip:2001:db8:1:2::/64"));
        assert_eq!(key("::ffff:203.0.113.9").as_deref(), Some("ip:203.0.113.9"), "IPv4-mapped is IPv4");
        assert_eq!(key(""), None);
    }

    #[test]
    fn the_back_off_starts_after_the_free_attempts_and_doubles_up_to_a_cap() {
        let b = budget(5, 0);
        assert_eq!(b.lock_secs(4), None);
        assert_eq!(b.lock_secs(5), Some(30));
        assert_eq!(b.lock_secs(6), Some(60));
        assert_eq!(b.lock_secs(7), Some(120));
        assert_eq!(b.lock_secs(50), Some(900));
        assert_eq!(b.lock_secs(i64::MAX), Some(900));
    }
}
