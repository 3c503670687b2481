//! Tickwire client library.
