pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod errors;
pub mod routes;
pub mod startup;
