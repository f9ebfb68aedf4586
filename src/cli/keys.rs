//! `keys list` and `keys rotate`: the key ring in `PORTCULLIS_KEY_FILE`, which running
//! instances reread within a minute (SPEC §6), so a rotation needs no restart.

use anyhow::bail;
use clap::Subcommand;

use crate::config::Settings;
use crate::db;
use crate::keys::{self, KeyFile, MasterKey, SigningPair};
use crate::routes::format::rfc3339;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the keys that verify tokens: kid, algorithm, created, active or retiring.
    List,
    /// Make new signing keys active: PORTCULLIS_JWT_ALG's for access tokens, and RS256 for
    /// ID tokens. Older keys keep verifying until every token they signed has expired, then
    /// leave the ring: nobody is signed out.
    Rotate,
}

pub fn list(settings: &Settings) -> anyhow::Result<()> {
    println!("KID\tALG\tCREATED\tSTATE");
    if let Some(secret) = &settings.jwt_secret {
        let kid = MasterKey::from_secret(secret).hs256_kid();
        println!("{kid}\tHS256\t-\tactive (PORTCULLIS_JWT_SECRET)");
        return Ok(());
    }
    let (now, overlap) = (db::now(), overlap(settings));
    let ring = KeyFile::open(&settings.key_file, &settings.signing_algs(), now, overlap, false)?;
    for key in ring.keys.iter().rev().filter(|k| k.is_live(now, overlap)) {
        let kid = SigningPair::from_der(key.alg, &key.private)?.kid;
        let state = match key.retired {
            None => "active".to_owned(),
            Some(retired) => format!("retiring (verifies until {})", rfc3339(retired + overlap)),
        };
        println!("{kid}\t{}\t{}\t{state}", key.alg.as_str(), rfc3339(key.created));
    }
    if let Some(until) = ring.legacy_hs256_until.filter(|until| until + overlap >= now) {
        println!(
            "{}\tHS256\t-\tretiring (access tokens of the previous version, until {})",
            ring.master.hs256_kid(),
            rfc3339(until + overlap)
        );
    }
    Ok(())
}

pub fn rotate(settings: &Settings) -> anyhow::Result<()> {
    if settings.jwt_secret.is_some() {
        bail!(
            "PORTCULLIS_JWT_SECRET is set, so tokens are signed with that secret and there is no key ring to rotate; \
             unset it to use generated keys (that signs everybody out once)"
        );
    }
    let (now, overlap) = (db::now(), overlap(settings));
    let algs = settings.signing_algs();
    let ring = KeyFile::rotate_file(&settings.key_file, &algs, now, overlap)?;
    for alg in algs {
        let active = ring.active(alg).map(|k| SigningPair::from_der(k.alg, &k.private)).transpose()?;
        if let Some(active) = active {
            println!("{} ({}) signs from now on", active.kid, active.alg.as_str());
        }
    }
    println!(
        "older keys verify until {}; running instances pick the new key up within {} s",
        rfc3339(now + overlap),
        keys::RELOAD_EVERY_SECS
    );
    Ok(())
}

fn overlap(settings: &Settings) -> i64 {
    settings.key_overlap_secs()
}
