//! Building Portcullis: the public entry points (`portcullis.rs`: bind, mount, migrate, run);
//! settings → pool → keys → the pieces handlers share (`build.rs`); what runs beside the server
//! and stops with it (`background.rs`); the key ring (`keys.rs`); and the standalone server the
//! `portcullis` binary runs, built on those same entry points (`standalone.rs`).

mod background;
mod build;
pub(crate) mod keys;
mod portcullis;
mod standalone;

pub use portcullis::{AppMigrations, Portcullis, Routes};
pub use standalone::Application;
