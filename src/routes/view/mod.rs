//! What every HTML page shares: the base layout's contents (who is signed in, the CSRF token
//! its forms carry) and the one render helper. Pages and the API's docs page both use it.

pub mod layout;
pub mod render;
