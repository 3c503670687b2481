//! Authentication: JWTs (issue and verify) and the extractors that read them from requests.

pub mod token;

pub use token::{Auth, AuthError, Claims, TokenKind};
