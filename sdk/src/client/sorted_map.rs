//! A map kept as a sorted `Vec`, standing in for `BTreeMap` inside the client core.
//!
//! The core's one map, of the conversations it tracks, is small (a visitor has a few), so a
//! binary search over a vector is as fast as a B-tree, and it compiles to a small fraction of the
//! code: `BTreeMap` cost the browser widget about 35 KB of wasm, close to its whole size budget.
//! Iteration is in key order, like `BTreeMap`'s. (Requests in flight, typing states and messages
//! buffered behind a gap are plain `Vec`s: one more entry type here cost ~0.1-0.2 KB gzip.)

use alloc::vec::Vec;
use core::borrow::Borrow;

/// An ordered map on a sorted vector. Only the operations the core needs.
#[derive(Debug, Clone)]
pub(crate) struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub(crate) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub(crate) fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    pub(crate) fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the replaced value.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub(crate) fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
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
                if insert {
                    prop_assert_eq!(ours.insert(key, value), theirs.insert(key, value));
                } else {
                    prop_assert_eq!(ours.remove(&key), theirs.remove(&key));
                }
                prop_assert_eq!(ours.get(&key), theirs.get(&key));
                prop_assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
                let a: Vec<_> = ours.iter().map(|(k, v)| (*k, *v)).collect();
                let b: Vec<_> = theirs.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(a, b);
            }
        }
    }
}
