//! The server secret and the key ring, as a running instance holds them.

use std::sync::Arc;

use actix_web::web;

use crate::auth::session::lifetimes::secs;
use crate::auth::tokens::KeyRing;
use crate::config::{PublicUrl, Settings};
use crate::db;
use crate::keys::{KeyFile, MasterKey};

/// The server secret and the key ring: `PORTCULLIS_JWT_SECRET` (HS256), or the key file,
/// created or upgraded on first start.
pub fn load_keys(settings: &Settings, public_url: &PublicUrl) -> anyhow::Result<(MasterKey, KeyRing)> {
    let leeway = secs(settings.clock_leeway);
    if let Some(secret) = &settings.jwt_secret {
        let master = MasterKey::from_secret(secret);
        let ring = KeyRing::new(&master, public_url.as_str(), leeway);
        return Ok((master, ring));
    }
    let overlap = settings.key_overlap_secs();
    let path = &settings.key_file;
    let file = KeyFile::open(path, &settings.signing_algs(), db::now(), overlap, true)?;
    let ring = KeyRing::from_file(&file, settings.jwt_alg, path, overlap, public_url.as_str(), leeway)?;
    Ok((file.master, ring))
}

/// The server secret alone (for the command line: it seals the mail it queues as the server
/// does): `PORTCULLIS_JWT_SECRET`, or the key file's, which is created on first use.
pub fn server_secret(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(MasterKey::from_secret(secret));
    }
    let overlap = settings.key_overlap_secs();
    Ok(KeyFile::open(&settings.key_file, &settings.signing_algs(), db::now(), overlap, false)?.master)
}

/// Rereads the key file every `every` (SPEC §6: at least every 60 s), off the workers.
pub async fn reload_keys_every(keys: Arc<KeyRing>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let keys = keys.clone();
        match web::block(move || keys.reload()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::warn!(error:% = format!("{e:#}"); "cannot reload the key ring"),
            Err(e) => log::warn!(error:% = e; "cannot reread the key file"),
        }
    }
}
