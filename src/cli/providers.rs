//! `provider add|list|remove` (SPEC §13): the identity providers people may sign in with. The
//! client secret is read from stdin as passwords are (one line; a prompt on a terminal) and
//! sealed; every answer is one line of JSON on stdout, with the redirect URI to register at the
//! provider. Running instances see a change at their next request.

use anyhow::Context;
use clap::Subcommand;

use crate::auth::upstream::providers::{self, GITHUB_API, GITHUB_WEB, Kind, ProviderSealer, ProviderSpec};
use crate::config::Settings;
use crate::db;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Add a provider; the client secret is read from stdin. Prints the provider as JSON, with
    /// the redirect URI to register at the provider.
    Add {
        /// In the path /login/provider/NAME and on the button "Sign in with NAME".
        name: String,
        /// An OpenID Connect provider's issuer URL (https://, or http:// on a loopback host).
        #[arg(long, required_unless_present = "github", conflicts_with = "github")]
        issuer: Option<String>,
        /// The client id Portcullis has at the provider.
        #[arg(long)]
        client_id: String,
        /// GitHub (OAuth 2 and its user API) instead of an OpenID Connect issuer.
        #[arg(long)]
        github: bool,
        /// GitHub Enterprise: the API's base URL (the default is GitHub.com's API).
        #[arg(long, requires = "github")]
        api_url: Option<String>,
        /// GitHub Enterprise: the web base URL (the default is GitHub.com).
        #[arg(long, requires = "github")]
        web_url: Option<String>,
    },
    /// List the providers as a JSON array (no secrets).
    List,
    /// Remove a provider.
    Remove { name: String },
}

pub fn run(settings: &Settings, cmd: ProviderCommand) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database_url, 1, settings.db_timeout)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let public_url = settings.effective_public_url().map_err(anyhow::Error::msg)?;
    let public_url = public_url.as_str();
    let explain = |e: providers::ProviderError| anyhow::Error::msg(e.to_string());
    let line = match cmd {
        ProviderCommand::Add { name, issuer, client_id, github, api_url, web_url } => {
            let kind = match issuer {
                Some(issuer) if !github => Kind::Oidc { issuer },
                _ => Kind::GitHub {
                    web_url: web_url.unwrap_or_else(|| GITHUB_WEB.to_owned()),
                    api_url: api_url.unwrap_or_else(|| GITHUB_API.to_owned()),
                },
            };
            let client_secret = super::input::read_secret("client secret")?;
            let sealer = ProviderSealer::new(&crate::startup::keys::server_secret(settings)?);
            let spec = ProviderSpec { name, kind, client_id, client_secret };
            serde_json::to_string(&providers::add(&mut conn, &sealer, public_url, &spec).map_err(explain)?)?
        }
        ProviderCommand::List => {
            serde_json::to_string(&providers::list(&mut conn, public_url).map_err(explain)?)?
        }
        ProviderCommand::Remove { name } => {
            providers::remove(&mut conn, &name).map_err(explain)?;
            serde_json::json!({"name": name, "removed": true}).to_string()
        }
    };
    println!("{line}");
    Ok(())
}
