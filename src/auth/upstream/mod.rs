//! Signing in with another identity provider (SPEC §13): the providers an operator registers
//! (`providers`). The sign-in flow and linking come next (issue 25).

pub mod providers;
