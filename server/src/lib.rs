//! Tickwire server library.
