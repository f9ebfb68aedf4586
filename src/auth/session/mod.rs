//! Sessions: signing in and out, the token pair a session holds, refresh rotation with reuse
//! detection, device cookies, and how long it all lives.

pub mod challenge;
pub mod device;
pub mod lifetimes;
pub mod pair;
pub mod refresh;
pub mod sign_in;
