//! Values derived from what the partners serve (feed snapshots, live
//! answers while cached), built once per state of their inputs and shared
//! by every request until one input changes: the indexes that answer the
//! joins of a page of CFAs without scanning a feed per CFA.

use std::any::Any;
use std::sync::{Arc, Mutex, RwLock};

/// A value derived from inputs named by a key (the versions of the
/// snapshots it reads, the addresses of the answers it reads), rebuilt when
/// the key changes. Only the latest is kept: the inputs it was built from
/// are what every request reads.
pub struct Derived<K, T> {
    /// The value and the key it was built for: read by every request, so
    /// readers do not wait for one another.
    slot: RwLock<Option<(K, Arc<T>)>>,
    /// Held by the one request that builds.
    building: Mutex<()>,
}

impl<K, T> Default for Derived<K, T> {
    fn default() -> Self {
        Self {
            slot: RwLock::new(None),
            building: Mutex::new(()),
        }
    }
}

impl<K: PartialEq, T> Derived<K, T> {
    /// The value for `key`: the one kept when built from the same inputs,
    /// else `build`'s, kept in its place. Requests that ask meanwhile wait
    /// for that build rather than each making its own.
    pub fn get(&self, key: K, build: impl FnOnce() -> T) -> Arc<T> {
        if let Some(value) = self.built_for(&key) {
            return value;
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        // Built meanwhile by the request this one waited for.
        if let Some(value) = self.built_for(&key) {
            return value;
        }
        // The old value goes first: two of them need not be held at once.
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = None;
        let value = Arc::new(build());
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = Some((key, value.clone()));
        value
    }

    /// Drops the value kept, so that it holds its inputs no longer.
    pub fn clear(&self) {
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn built_for(&self, key: &K) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref()
            .filter(|(built_for, _)| built_for == key)
            .map(|(_, value)| value.clone())
    }
}

/// Values derived from one thing (a snapshot's records, a merged list),
/// one of each type, built at first use and dropped with it.
#[derive(Default)]
pub struct DerivedSet(RwLock<Vec<Arc<dyn Any + Send + Sync>>>);

impl std::fmt::Debug for DerivedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedSet")
    }
}

impl DerivedSet {
    /// The value of type `T`: `build`'s at the first call, the same for
    /// every later one.
    pub fn get<T: Any + Send + Sync>(&self, build: impl FnOnce() -> T) -> Arc<T> {
        let find = |derived: &[Arc<dyn Any + Send + Sync>]| {
            derived
                .iter()
                .find(|d| d.is::<T>())
                .and_then(|d| d.clone().downcast::<T>().ok())
        };
        if let Some(found) = find(&self.0.read().unwrap_or_else(|e| e.into_inner())) {
            return found;
        }
        let mut derived = self.0.write().unwrap_or_else(|e| e.into_inner());
        // Built meanwhile by the request this one waited for.
        if let Some(found) = find(&derived) {
            return found;
        }
        let value = Arc::new(build());
        derived.push(value.clone());
        value
    }
}

/// A shared value as a key, the same when it is the same value (not an
/// equal one): a cached answer is immutable, so the value derived from it
/// holds while it is the one served. The key holds the value, so that its
/// address cannot name another one meanwhile.
#[derive(Debug)]
pub struct Same<T: ?Sized>(pub Arc<T>);

impl<T: ?Sized> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_per_key() {
        let derived: Derived<Vec<u64>, String> = Derived::default();
        let built = std::cell::Cell::new(0);
        let get = |key: Vec<u64>| {
            derived.get(key.clone(), || {
                built.set(built.get() + 1);
                format!("{key:?}")
            })
        };
        assert_eq!(*get(vec![1, 2]), "[1, 2]");
        assert_eq!(*get(vec![1, 2]), "[1, 2]");
        assert_eq!(*get(vec![1, 3]), "[1, 3]");
        assert_eq!(*get(vec![1, 2]), "[1, 2]");
        assert_eq!(built.get(), 3);
        derived.clear();
        assert_eq!(*get(vec![1, 2]), "[1, 2]");
        assert_eq!(built.get(), 4);
    }

    #[test]
    fn the_same_value_not_an_equal_one() {
        let a = Arc::new(1);
        assert_eq!(Same(a.clone()), Same(a));
        assert_ne!(Same(Arc::new(1)), Same(Arc::new(1)));
    }

    #[test]
    fn one_value_of_each_type() {
        let set = DerivedSet::default();
        assert_eq!(*set.get(|| 1u32), 1);
        assert_eq!(*set.get(|| 2u32), 1);
        assert_eq!(*set.get(|| "a"), "a");
    }
}
