//! Short std mutex locks that carry on past a poisoned lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`. Every lock in the server is held for a few instructions and never across an
/// `.await`; a panic while holding one leaves consistent data, so poisoning is ignored.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
