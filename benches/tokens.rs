//! The token path, without HTTP: how fast access tokens are signed and strictly decoded,
//! and what one argon2id verification costs (the sign-in ceiling is cores ÷ that time).
//! `cargo bench --bench tokens` prints operations per second on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use portcullis::auth::password;
use portcullis::auth::tokens::{KeyRing, MAX_LEEWAY_SECS, TokenKind};
use portcullis::keys::MasterKey;
use portcullis::keys::{Alg, SigningPair};
use secrecy::{ExposeSecret, SecretString};

fn main() {
    let master = MasterKey::from_secret(&SecretString::from("bench-secret-0123456789abcdef0123456789"));
    let ring = KeyRing::new(&master, "http://127.0.0.1:8080", MAX_LEEWAY_SECS);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = ring
        .issue(TokenKind::Access, &"user-id".into(), &"session-id".into(), None, now, 900)
        .expect("issue");
    let token = token.token.expose_secret().to_owned();

    measure("issue access token (HS256)", || {
        black_box(
            ring.issue(TokenKind::Access, &"user-id".into(), &"session-id".into(), None, now, 900)
                .expect("issue"),
        );
    });
    measure("decode a remembered token (cache)", || {
        black_box(ring.decode(black_box(&token), TokenKind::Access, now).expect("valid"));
    });
    measure("reject a forged token", || {
        black_box(ring.decode(black_box("eyJhbGciOiJub25lIn0.e30."), TokenKind::Access, now).is_err());
    });
    raw_signatures(now);
    let password = SecretString::from("correct horse battery staple");
    let hash = password::hash_blocking(&password).expect("hash");
    measure_slow("argon2id verify (m=19456, t=2, p=1)", || {
        black_box(password::verify_blocking(&password, &hash));
    });
}

/// What a signature costs per algorithm, without the server's cache of verified tokens: the
/// price of a sign-in or refresh (signing), and of the first request with a token (verifying).
fn raw_signatures(now: i64) {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    let claims = serde_json::json!({"sub": "user-id", "exp": now + 900});
    let secret = b"bench-secret-0123456789abcdef0123456789";
    let mut keys = vec![(
        "HS256".to_owned(),
        Algorithm::HS256,
        EncodingKey::from_secret(secret),
        DecodingKey::from_secret(secret),
    )];
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let pair = SigningPair::from_der(alg, &alg.generate().expect("key")).expect("pair");
        keys.push((alg.as_str().to_owned(), alg.jwt(), pair.encoding, pair.decoding));
    }
    for (name, alg, encoding, decoding) in &keys {
        let token = jsonwebtoken::encode(&Header::new(*alg), &claims, encoding).expect("sign");
        let mut validation = Validation::new(*alg);
        validation.required_spec_claims.clear();
        let sign = || {
            black_box(jsonwebtoken::encode(&Header::new(*alg), &claims, encoding).expect("sign"));
        };
        if *alg == Algorithm::RS256 {
            measure_slow(&format!("sign {name}"), sign)
        } else {
            measure(&format!("sign {name}"), sign)
        }
        measure(&format!("verify {name} (no cache)"), || {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(black_box(&token), decoding, &validation)
                    .expect("valid"),
            );
        });
    }
}

/// For operations in the milliseconds: a few warm-up runs, then two seconds.
fn measure_slow(label: &str, mut op: impl FnMut()) {
    for _ in 0..3 {
        op();
    }
    let (start, mut n) = (Instant::now(), 0u32);
    while start.elapsed() < Duration::from_secs(2) {
        op();
        n += 1;
    }
    let per_op = start.elapsed().as_secs_f64() / f64::from(n);
    println!("{label:34} {:>9.1} ops/s  {:>7.2} ms/op", 1.0 / per_op, per_op * 1e3);
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
