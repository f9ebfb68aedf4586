//! Sign-in throttling per account and per client IP (OWASP ASVS 2.2.1): a growing
//! back-off after a number of free failures, never a permanent lockout that an attacker
//! could use to keep the owner out. Checked before any argon2 work.

use super::client::ClientInfo;
use super::events::{self, EventKind};
use crate::config::Settings;
use crate::db::{self, Pool, StoreError, throttle};

/// Failed sign-ins allowed before a pause, per account and per client IP.
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

/// The first lock lasts this long; each further failure doubles it…
const FIRST_LOCK_SECS: i64 = 30;
/// …up to this cap.
const MAX_LOCK_SECS: i64 = 15 * 60;
/// A counter with no failure for this long (and no lock running) starts over.
const FORGET_AFTER_SECS: i64 = 60 * 60;

/// Sign-in is paused for these keys; try again after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// IPv4 clients are counted per address, IPv6 clients per /64: one host is usually handed a
/// whole /64, and counting each of its 2^64 addresses apart would make the limit moot.
fn ip_key(client: &ClientInfo) -> Option<String> {
    match client.ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(format!("ip:{v4}")),
        // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client.
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            v6.to_ipv4_mapped().map(|v4| format!("ip:{v4}"))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            Some(format!("ip:{prefix}/64"))
        }
    }
}

fn keys(email: Option<&str>, client: &ClientInfo) -> Vec<String> {
    email.map(account_key).into_iter().chain(ip_key(client)).collect()
}

/// How long the `failures`-th failure locks a key that allows `free` failures.
pub fn lock_secs(failures: i64, free: i64) -> Option<i64> {
    let over = failures.checked_sub(free)?;
    (over >= 0).then(|| FIRST_LOCK_SECS.saturating_mul(1 << over.min(20)).min(MAX_LOCK_SECS))
}

/// Refuses early when the account or the client IP is locked.
pub async fn check(
    pool: &Pool,
    email: Option<&str>,
    client: &ClientInfo,
) -> Result<Result<(), Throttled>, StoreError> {
    let keys = keys(email, client);
    let now = db::now();
    let until = db::query(pool, move |conn| throttle::locked_until(conn, &keys, now)).await?;
    Ok(match until {
        Some(until) => Err(Throttled { retry_after_secs: u64::try_from(until - now).unwrap_or(1).max(1) }),
        None => Ok(()),
    })
}

/// Counts a failed sign-in against the account and the IP, locking either that has used
/// up its free failures. `user_id` is set when the email belongs to an account.
pub async fn failed(
    pool: &Pool,
    limits: &ThrottleLimits,
    email: Option<&str>,
    user_id: Option<&str>,
    client: &ClientInfo,
) -> Result<(), StoreError> {
    let limits = [(email.map(account_key), limits.per_account), (ip_key(client), limits.per_ip)];
    let now = db::now();
    for (key, free) in limits {
        let Some(key) = key else { continue };
        let locked = db::query(pool, move |conn| {
            let failures = throttle::record_failure(conn, &key, now, FORGET_AFTER_SECS)?;
            let lock = lock_secs(failures, free);
            if let Some(secs) = lock {
                throttle::lock(conn, &key, now + secs)?;
            }
            Ok(lock.is_some() && key.starts_with("account:"))
        })
        .await?;
        if let (true, Some(user_id)) = (locked, user_id) {
            events::record(pool, user_id, EventKind::Lockout, None, client).await;
        }
    }
    Ok(())
}

/// A successful sign-in clears the account's counter (not the IP's: one good account
/// must not let an attacker reset their budget for guessing others).
pub async fn succeeded(pool: &Pool, email: &str) -> Result<(), StoreError> {
    let key = account_key(email);
    db::query(pool, move |conn| throttle::clear(conn, &key)).await
}

#[cfg(test)]
mod tests {
    use super::{ClientInfo, ip_key, lock_secs};

    #[test]
    fn ip_keys_are_per_ipv4_address_and_per_ipv6_64() {
        let key = |ip: &str| ip_key(&ClientInfo { ip: ip.into(), user_agent: String::new() });
        assert_eq!(key("203.0.113.9").as_deref(), Some("ip:203.0.113.9"));
        assert_eq!(key("2001:db8:1:2:3:4:5:6").as_deref(), Some("ip:2001:db8:1:2::/64"));
        assert_eq!(key("::ffff:203.0.113.9").as_deref(), Some("ip:203.0.113.9"), "IPv4-mapped is IPv4");
        assert_eq!(key(""), None);
    }

    #[test]
    fn the_back_off_starts_after_the_free_failures_and_doubles_up_to_a_cap() {
        assert_eq!(lock_secs(4, 5), None);
        assert_eq!(lock_secs(5, 5), Some(30));
        assert_eq!(lock_secs(6, 5), Some(60));
        assert_eq!(lock_secs(7, 5), Some(120));
        assert_eq!(lock_secs(50, 5), Some(900));
        assert_eq!(lock_secs(i64::MAX, 5), Some(900));
    }
}
