//! Authentication: JWTs (issue and verify). The extractors that read them from requests are
//! `crate::http::bearer`, above the application state.

pub mod token;

pub use token::{Auth, AuthError, Claims, TokenKind};
