//! One integration binary: every test drives the real server through HTTP.

mod abuse;
mod admin;
mod architecture;
mod browser;
mod cli;
mod concurrency;
mod crash;
mod csrf;
mod edges;
mod health;
mod helpers;
mod hostile;
mod in_a_browser;
mod instances;
mod login;
mod logout;
mod outage;
mod pages;
mod recovery;
mod refresh;
mod register;
mod sessions;
mod smtp;
mod storage;
mod throttle;
mod token;
