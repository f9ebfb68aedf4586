//! The token path, without HTTP: how fast access tokens are signed and strictly decoded.
//! `cargo bench --bench tokens` prints operations per second on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use portcullis::auth::keys::MasterKey;
use portcullis::auth::tokens::{KeyRing, MAX_LEEWAY_SECS, TokenKind};
use secrecy::{ExposeSecret, SecretString};

fn main() {
    let master = MasterKey::from_secret(&SecretString::from("bench-secret-0123456789abcdef0123456789"));
    let ring = KeyRing::new(&master, "http://127.0.0.1:8080", MAX_LEEWAY_SECS);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = ring.issue(TokenKind::Access, "user-id", "session-id", now, 900).expect("issue");
    let token = token.token.expose_secret().to_owned();

    measure("issue access token (HS256)", || {
        black_box(ring.issue(TokenKind::Access, "user-id", "session-id", now, 900).expect("issue"));
    });
    measure("decode + validate access token", || {
        black_box(ring.decode(black_box(&token), TokenKind::Access, now).expect("valid"));
    });
    measure("reject a forged token", || {
        black_box(ring.decode(black_box("eyJhbGciOiJub25lIn0.e30."), TokenKind::Access, now).is_err());
    });
}

/// Runs `op` for about two seconds after a warm-up and prints the rate.
fn measure(label: &str, mut op: impl FnMut()) {
    for _ in 0..10_000 {
        op();
    }
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed() < Duration::from_secs(2) {
        for _ in 0..1_000 {
            op();
        }
        n += 1_000;
    }
    let per_op = start.elapsed().as_secs_f64() / n as f64;
    println!("{label:34} {:>9.0} ops/s  {:>7.2} µs/op", 1.0 / per_op, per_op * 1e6);
}
