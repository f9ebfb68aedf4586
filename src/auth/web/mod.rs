//! The request edge: the guard that identifies every caller, the extractors that authorize,
//! the policy each scope wraps, the cookies, and CSRF: signed double-submit tokens (`csrf.rs`),
//! the tokens pages embed and the session they bind to (`csrf_forms.rs`), and the checks each
//! scope runs before any handler (`csrf_checks.rs`).

pub mod cookies;
pub mod csrf;
pub mod csrf_checks;
pub mod csrf_forms;
pub mod extract;
pub mod guard;
pub mod scope;
