//! The block cache: aligned blocks by number, bounded in bytes, least recently used out first;
//! and the blocks being fetched, which other readers wait for instead of fetching them again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::RemoteError;

/// One block's bytes (shorter than the block size only for the last block of the image).
pub(crate) type Block = Arc<[u8]>;

/// Locks `m`, going on past a poisoned lock: the guarded maps are left consistent at every
/// step, so a panic elsewhere does not make them unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A least-recently-used map of blocks with a total byte cap.
pub(crate) struct Lru {
    blocks: HashMap<u64, (Block, u64)>,
    /// Use tick → block number, oldest first.
    order: BTreeMap<u64, u64>,
    tick: u64,
    bytes: u64,
    cap: u64,
}

impl Lru {
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            blocks: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            cap,
        }
    }

    pub(crate) fn get(&mut self, n: u64) -> Option<Block> {
        let (data, used) = self.blocks.get_mut(&n)?;
        self.order.remove(used);
        self.tick += 1;
        *used = self.tick;
        self.order.insert(self.tick, n);
        Some(data.clone())
    }

    pub(crate) fn insert(&mut self, n: u64, data: Block) {
        if let Some((old, used)) = self.blocks.remove(&n) {
            self.order.remove(&used);
            self.bytes -= old.len() as u64;
        }
        self.tick += 1;
        self.bytes += data.len() as u64;
        self.blocks.insert(n, (data, self.tick));
        self.order.insert(self.tick, n);
        while self.bytes > self.cap {
            let Some((_, victim)) = self.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = self.blocks.remove(&victim) {
                self.bytes -= old.len() as u64;
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// A block one reader is fetching; others wait on it.
pub(crate) struct Pending {
    result: Mutex<Option<Result<Block, RemoteError>>>,
    ready: Condvar,
}

impl Pending {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            result: Mutex::new(None),
            ready: Condvar::new(),
        })
    }

    /// Sets the outcome (the first one set wins) and wakes the waiters.
    pub(crate) fn resolve(&self, r: Result<Block, RemoteError>) {
        let mut slot = lock(&self.result);
        if slot.is_none() {
            *slot = Some(r);
        }
        self.ready.notify_all();
    }

    /// Waits for the outcome.
    pub(crate) fn wait(&self) -> Result<Block, RemoteError> {
        let mut slot = lock(&self.result);
        loop {
            if let Some(r) = slot.as_ref() {
                return r.clone();
            }
            slot = self.ready.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The cache and the blocks in flight, under one lock that is never held across a request.
pub(crate) struct State {
    pub(crate) cache: Lru,
    pub(crate) in_flight: HashMap<u64, Arc<Pending>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blk(n: usize) -> Block {
        vec![0u8; n].into()
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut c = Lru::new(30);
        c.insert(1, blk(10));
        c.insert(2, blk(10));
        c.insert(3, blk(10));
        assert!(c.get(1).is_some()); // 2 is now the oldest
        c.insert(4, blk(10));
        assert!(c.get(2).is_none());
        assert!(c.get(1).is_some() && c.get(3).is_some() && c.get(4).is_some());
        assert_eq!(c.bytes(), 30);
        c.insert(4, blk(5));
        assert_eq!(c.bytes(), 25);
        // A block larger than the cap does not stay.
        c.insert(9, blk(100));
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn pending_wakes_waiters() {
        let p = Pending::new();
        let q = p.clone();
        let t = std::thread::spawn(move || q.wait());
        p.resolve(Ok(blk(3)));
        p.resolve(Ok(blk(4))); // ignored
        assert_eq!(t.join().unwrap().unwrap().len(), 3);
    }
}
