//! A map from strings kept as a sorted `Vec`, standing in for `BTreeMap` inside the client core.
//!
//! The core's one map, of the conversations it tracks, is small (a visitor has a few), so a
//! binary search over a vector is as fast as a B-tree, and it compiles to a small fraction of the
//! code: `BTreeMap` cost the browser widget about 35 KB of wasm, close to its whole size budget.
//! Iteration is in key order, like `BTreeMap`'s. (Requests in flight, typing states and messages
//! buffered behind a gap are plain `Vec`s: one more entry type here cost ~0.1-0.2 KB gzip.)

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// An ordered map from strings on a sorted vector. Only the operations the core needs.
///
/// Keyed by `String` and looked up by `&str` only, rather than generic over the key and its
/// borrowed form: `get_or_insert_with` then shares the one binary search with the lookups
/// instead of compiling one of its own (~66 B less zopfli gzip of the widget's wasm).
#[derive(Debug, Clone)]
pub(crate) struct SortedMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<V> SortedMap<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    // `get` and `get_mut` of the vector rather than indexing: the index always exists, but the
    // indexing kept a bounds-check panic path (~19 B zopfli gzip of the widget's wasm).
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let (_, value) = self.entries.get(self.find(key).ok()?)?;
        Some(value)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let index = self.find(key).ok()?;
        let (_, value) = self.entries.get_mut(index)?;
        Some(value)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// The value under `key`, inserted from `make` first if there is none (always `Some`).
    pub(crate) fn get_or_insert_with(
        &mut self,
        key: &str,
        make: impl FnOnce() -> V,
    ) -> Option<&mut V> {
        // One search for both the lookup and the insertion, where the timelines looked up,
        // inserted (searching again) and looked up once more: with `heartbeat_deadlines`,
        // ~90 B less zopfli gzip of the widget's wasm.
        let index = match self.find(key) {
            Ok(index) => index,
            Err(index) => {
                self.entries.insert(index, (key.to_owned(), make()));
                index
            }
        };
        let (_, value) = self.entries.get_mut(index)?;
        Some(value)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    proptest! {
        /// Any sequence of inserts and removes leaves the same contents, in the same order, as
        /// a `BTreeMap` given the same operations.
        #[test]
        fn behaves_like_a_btree_map(ops in proptest::collection::vec((any::<bool>(), 0u16..50, any::<u32>()), 0..200)) {
            let mut ours = SortedMap::default();
            let mut theirs = BTreeMap::new();
            for (insert, key, value) in ops {
                let key = key.to_string();
                if insert {
                    let ours = ours.get_or_insert_with(&key, || value).copied();
                    prop_assert_eq!(ours, Some(*theirs.entry(key.clone()).or_insert(value)));
                } else {
                    prop_assert_eq!(ours.remove(&key), theirs.remove(&key));
                }
                prop_assert_eq!(ours.get(&key), theirs.get(&key));
                prop_assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
                let a: Vec<_> = ours.iter().map(|(k, v)| (k.clone(), *v)).collect();
                let b: Vec<_> = theirs.iter().map(|(k, v)| (k.clone(), *v)).collect();
                prop_assert_eq!(a, b);
            }
        }
    }
}
