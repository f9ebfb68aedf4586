//! The command line: `serve` (default), `migrate`, `user add|list|disable|enable|set-password|verify|role|delete`,
//! `keys list|rotate`, `client add|list|remove|rotate-secret`, `provider add|list|remove` and
//! `backup PATH`.

mod clients;
mod input;
mod keys;
mod providers;

pub use clients::ClientCommand;
pub use keys::KeysCommand;
pub use providers::ProviderCommand;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use input::read_password;

use crate::auth::account::lifecycle::{self, AccountError, PasswordSetting};
use crate::auth::account::register;
use crate::auth::client::ClientInfo;
use crate::auth::factors::two_factor;
use crate::auth::identity::Actor;
use crate::auth::password;
use crate::auth::password::Hasher;
use crate::config::{self, ConfigError, Settings};
use crate::db::{self, DbConn, Pool, users};
use crate::domain::{Email, NewPassword, PasswordPolicy, Role};
use crate::mail::Mail;
use crate::startup::{self, Application};

/// The command line of the `portcullis` binary: `serve` (the default), `migrate`, `user …`,
/// `keys …`, `client …`, `backup PATH`. An app that mounts Portcullis may offer the same commands.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about = "JWT authentication done right")]
pub struct Cli {
    /// The command; none means `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the signing keys in PORTCULLIS_KEY_FILE.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the apps that sign people in through Portcullis (OpenID Connect clients).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the identity providers people may sign in with (OpenID Connect, GitHub).
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Copy the live SQLite database to PATH (a new file, mode 0600), consistently, while the
    /// server runs. On PostgreSQL, use pg_dump.
    Backup { path: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from stdin (one line) or prompted for.
    Add {
        email: String,
        /// Give the account the admin role.
        #[arg(long)]
        admin: bool,
    },
    /// Disable an account and end all its sessions.
    Disable { email: String },
    /// Enable a disabled account.
    Enable { email: String },
    /// List all accounts.
    List,
    /// Set an account's password (read like `add`'s) and end all its sessions; the owner is
    /// told by mail.
    SetPassword { email: String },
    /// Mark an account's email address as verified.
    Verify { email: String },
    /// Give an account a role (the last enabled administrator cannot be demoted).
    Role {
        email: String,
        #[arg(value_parser = ["admin", "user"])]
        role: String,
    },
    /// Delete an account with its sessions, events and links.
    Delete { email: String },
    /// Turn off every second factor of an account (authenticator app, recovery codes,
    /// passkeys), for someone who lost them; the owner is told by mail.
    #[command(name = "reset-2fa")]
    Reset2fa { email: String },
}

impl Cli {
    /// Parses the command line with every setting as a global argument (so `--help` of each
    /// command lists them), then the settings themselves: a flag, else the environment
    /// variable, else the documented default.
    pub fn parse_with_settings() -> (Self, Result<Settings, ConfigError>) {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Self::command().args(config::cli_args()).get_matches();
        let cli = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let settings = Settings::from_lookup(|name| matches.get_one::<String>(name).cloned());
        (cli, settings)
    }

    /// Runs the command with `settings`.
    pub fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings),
            Command::Migrate => {
                db::connect(&settings.database_url, 1, settings.db_timeout)?;
                println!("migrations are up to date");
                Ok(())
            }
            Command::User(cmd) => run_user(&settings, cmd),
            Command::Keys(KeysCommand::List) => keys::list(&settings),
            Command::Keys(KeysCommand::Rotate) => keys::rotate(&settings),
            Command::Client(cmd) => clients::run(&settings, cmd),
            Command::Provider(cmd) => providers::run(&settings, cmd),
            Command::Backup { path } => {
                let copied = db::backup::backup(&settings.database_url, &path)?;
                println!(
                    "backed up {} users to {} ({} bytes); keep {} with it",
                    copied.users,
                    path.display(),
                    copied.bytes,
                    settings.key_file.display()
                );
                Ok(())
            }
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        app.run_until_stopped().await.context("the server stopped with an error")
    })
}

fn run_user(settings: &Settings, cmd: UserCommand) -> anyhow::Result<()> {
    // Two: a command holds one connection for its look-up while a shared auth function
    // (disable, enable) takes its own.
    let pool = db::connect(&settings.database_url, 2, settings.db_timeout)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    match cmd {
        UserCommand::Add { email, admin } => add_user(settings, &mut conn, &email, admin),
        UserCommand::Disable { email } => set_disabled(&pool, &mut conn, &email, true),
        UserCommand::Enable { email } => set_disabled(&pool, &mut conn, &email, false),
        UserCommand::SetPassword { email } => set_password(settings, &pool, &mut conn, &email),
        UserCommand::Verify { email } => {
            let user = find(&mut conn, &email)?;
            users::mark_verified(&mut conn, &user.id, &user.email, db::now())?;
            println!("{} is verified", user.email);
            Ok(())
        }
        UserCommand::Role { email, role } => {
            let user = find(&mut conn, &email)?;
            let role = Role::try_from(role.as_str()).map_err(anyhow::Error::msg)?;
            block_on(lifecycle::set_role(&pool, &user.id, role, Actor::CommandLine, &command_line()))
                .map_err(explain)?;
            println!("{} is now {role}", user.email);
            Ok(())
        }
        UserCommand::Delete { email } => {
            let user = find(&mut conn, &email)?;
            block_on(lifecycle::delete_user(&pool, &user.id, None, &command_line())).map_err(explain)?;
            println!("deleted {} with its sessions and history", user.email);
            Ok(())
        }
        UserCommand::Reset2fa { email } => reset_second_factor(settings, &pool, &mut conn, &email),
        UserCommand::List => {
            for user in users::list_users(&mut conn)? {
                let status = if user.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{}", user.email, user.role, status, user.id);
            }
            Ok(())
        }
    }
}

fn add_user(settings: &Settings, conn: &mut DbConn, raw_email: &str, admin: bool) -> anyhow::Result<()> {
    let email = Email::try_from(raw_email).map_err(anyhow::Error::msg)?;
    let raw = read_password()?;
    let policy = PasswordPolicy::from_settings(settings);
    let password = NewPassword::parse(raw, policy, &[email.as_ref()]).map_err(anyhow::Error::msg)?;
    let hash = password::hash_blocking(password.secret())?;
    let role = if admin { Role::Admin } else { Role::User };
    match register::create_user(conn, &email, &hash, role, true) {
        Ok(user) => {
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
            Ok(())
        }
        Err(users::CreateUserError::EmailTaken) => {
            bail!("an account with the email {email} already exists")
        }
        Err(e) => Err(e.into()),
    }
}

fn find(conn: &mut DbConn, raw_email: &str) -> anyhow::Result<crate::db::models::User> {
    let email = Email::try_from(raw_email).map_err(anyhow::Error::msg)?;
    users::find_user_by_email(conn, email.as_ref())?
        .with_context(|| format!("no account with the email {email}"))
}

/// Runs one async account function to completion (the CLI has no server running).
fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    actix_web::rt::System::new().block_on(work)
}

/// One line an operator understands.
fn explain(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::LastAdmin => {
            anyhow::anyhow!("that is the last enabled administrator: make someone else an admin first")
        }
        AccountError::NotFound => anyhow::anyhow!("no such account"),
        AccountError::Policy(message) => anyhow::anyhow!("{message}"),
        other => anyhow::Error::new(other),
    }
}

fn set_password(settings: &Settings, pool: &Pool, conn: &mut DbConn, raw_email: &str) -> anyhow::Result<()> {
    let user = find(conn, raw_email)?;
    let password = read_password()?;
    let mail = mail(settings)?;
    let client = ClientInfo { ip: String::new(), user_agent: "portcullis command line".into() };
    let policy = PasswordPolicy::from_settings(settings);
    block_on(async {
        let hasher = Hasher::new(1)?;
        let setting = PasswordSetting { pool, hasher: &hasher, policy, mail: &mail };
        lifecycle::set_password(setting, &user, password, &client).await.map_err(explain)
    })?;
    println!("set a new password for {} (all sessions ended; the owner is told by mail)", user.email);
    Ok(())
}

fn reset_second_factor(
    settings: &Settings,
    pool: &Pool,
    conn: &mut DbConn,
    raw_email: &str,
) -> anyhow::Result<()> {
    let user = find(conn, raw_email)?;
    let mail = mail(settings)?;
    block_on(two_factor::reset(pool, &mail, &user.id, Actor::CommandLine, &command_line()))
        .map_err(explain)?;
    println!("every second factor of {} is off (the owner is told by mail)", user.email);
    Ok(())
}

/// Mail as the server composes it: the same sender, links and sealing key.
fn mail(settings: &Settings) -> anyhow::Result<Mail> {
    let public_url = settings.effective_public_url().map_err(anyhow::Error::msg)?;
    Mail::new(settings, &public_url, &startup::keys::server_secret(settings)?)
}

fn set_disabled(pool: &Pool, conn: &mut DbConn, raw_email: &str, disabled: bool) -> anyhow::Result<()> {
    let user = find(conn, raw_email)?;
    let email = user.email.clone();
    block_on(lifecycle::set_disabled(pool, &user.id, disabled, Actor::CommandLine, &command_line()))
        .map_err(explain)?;
    println!("{} {email}", if disabled { "disabled (all sessions ended)" } else { "enabled" });
    Ok(())
}

/// Where an operator's command comes from, for the events it records.
fn command_line() -> ClientInfo {
    ClientInfo { ip: String::new(), user_agent: "portcullis command line".into() }
}
