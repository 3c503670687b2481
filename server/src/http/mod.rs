//! HTTP API handlers (JSON in, JSON out, errors as [`crate::error::AppError`]).

pub mod admin;
pub mod bearer;
pub mod cluster;
pub mod console;
pub mod deadline;
pub mod guest;
pub mod health;
pub mod json;
pub mod matches;
pub mod path;
pub mod recordings;
pub mod security_headers;
pub mod web;
