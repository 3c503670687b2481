//! In-memory match harness (written next).
