//! The database Portcullis uses, shared with your app: your tables live beside Portcullis's
//! (the same `DATABASE_URL`: one SQLite file, or one PostgreSQL database for every instance).
//!
//! Queries are Diesel's, on [`DbConn`] (one connection type for both backends, chosen at run
//! time). Run them with [`run`] or [`query`]: off the async workers, on actix's blocking pool,
//! with the pooled connection taken inside the closure.

pub use crate::db::{DbConn, Pool, StoreError, now, query, run, write_transaction};
