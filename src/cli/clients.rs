//! `client add|list|remove|rotate-secret` (SPEC §11): the apps that sign people in through
//! Portcullis. Every answer is one line of JSON on stdout (a secret is shown once, here);
//! running instances see a change at their next request.

use anyhow::Context;
use clap::Subcommand;

use crate::auth::provider::clients::{self, ClientError, ClientSpec};
use crate::config::Settings;
use crate::db;
use crate::keys::Alg;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an app; prints {"client_id", "client_secret"} (no secret with --public).
    Add {
        /// The app's name, shown on the consent page.
        name: String,
        /// Where the app receives the code: https://, or http:// on a loopback host. Matched
        /// exactly. Repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to (matched exactly). Repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (a single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// A first-party app: people are never asked to consent.
        #[arg(long)]
        skip_consent: bool,
        /// The ID token's algorithm: RS256 (the default), ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
    },
    /// List the registered apps as a JSON array (no secrets).
    List,
    /// Remove an app.
    Remove { client_id: String },
    /// Give a confidential app a new secret (the old one stops working at once); prints
    /// {"client_id", "client_secret"}.
    RotateSecret { client_id: String },
}

pub fn run(settings: &Settings, cmd: ClientCommand) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database_url, 1, settings.db_timeout)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let line = match cmd {
        ClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            skip_consent,
            id_token_alg,
        } => {
            let id_token_alg = Alg::parse(&id_token_alg).with_context(|| {
                format!("--id-token-alg: {id_token_alg:?} is not one of RS256, ES256, EdDSA")
            })?;
            let spec = ClientSpec {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                skip_consent,
                id_token_alg,
            };
            serde_json::to_string(&clients::add(&mut conn, &spec).map_err(explain)?)?
        }
        ClientCommand::List => serde_json::to_string(&clients::list(&mut conn).map_err(explain)?)?,
        ClientCommand::Remove { client_id } => {
            clients::remove(&mut conn, &client_id).map_err(explain)?;
            serde_json::json!({"client_id": client_id, "removed": true}).to_string()
        }
        ClientCommand::RotateSecret { client_id } => {
            serde_json::to_string(&clients::rotate_secret(&mut conn, &client_id).map_err(explain)?)?
        }
    };
    println!("{line}");
    Ok(())
}

fn explain(e: ClientError) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}
