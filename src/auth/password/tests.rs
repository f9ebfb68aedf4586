use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use secrecy::{ExposeSecret, SecretString};

use super::*;

#[test]
fn a_hash_is_an_argon2id_phc_string_that_verifies() {
    let pw = SecretString::from("tangerine orbit velvet cactus");
    let hash = hash_blocking(&pw).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(verify_blocking(&pw, &hash), Verdict::Match);
    assert_eq!(verify_blocking(&SecretString::from("wrong"), &hash), Verdict::Mismatch);
}

#[test]
fn weaker_stored_parameters_ask_for_a_rehash() {
    let pw = SecretString::from("tangerine orbit velvet cactus");
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
        .hash_password(pw.expose_secret().as_bytes())
        .unwrap()
        .to_string();
    assert_eq!(verify_blocking(&pw, &weak), Verdict::MatchNeedsRehash);
}

#[test]
fn passwords_are_compared_after_nfkc_normalization() {
    // U+212B ANGSTROM SIGN and U+00C5 LATIN CAPITAL LETTER A WITH RING ABOVE.
    let hash = hash_blocking(&SecretString::from("\u{212B}ngstr\u{f6}m unit of length")).unwrap();
    assert_eq!(
        verify_blocking(&SecretString::from("\u{c5}ngstr\u{f6}m unit of length"), &hash),
        Verdict::Match
    );
    let ligature = hash_blocking(&SecretString::from("\u{fb01}nal \u{fb01}gures of speech")).unwrap();
    assert_eq!(verify_blocking(&SecretString::from("final figures of speech"), &ligature), Verdict::Match);
}

#[test]
fn a_corrupt_stored_hash_never_matches() {
    assert_eq!(verify_blocking(&SecretString::from("x"), "not-a-hash"), Verdict::Mismatch);
}

#[test]
fn hashing_threads_run_under_sched_idle() {
    const SCHED_IDLE: &str = "5";
    let hasher = Hasher::new(1).unwrap();
    // The policy of every hashing thread of this process, from field 41 of its stat line.
    let policies = || -> Vec<String> {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        tasks
            .filter_map(|task| {
                let dir = task.ok()?.path();
                let name = std::fs::read_to_string(dir.join("comm")).ok()?;
                if !name.starts_with("argon2-") {
                    return None;
                }
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                let after_name = &stat[stat.rfind(')')? + 1..];
                after_name.split_whitespace().nth(38).map(str::to_owned)
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while policies().iter().any(|p| p != SCHED_IDLE) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let seen = policies();
    assert!(!seen.is_empty(), "no hashing thread found");
    assert!(seen.iter().all(|p| p == SCHED_IDLE), "policies: {seen:?}");
    drop(hasher);
}
