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

/// Use ticks of hot blocks start here; cold blocks take the ticks below, so every cold block is
/// evicted before any hot one.
const HOT: u64 = 1 << 62;

/// A least-recently-used map of blocks with a total byte cap. A block is hot (read by a short,
/// random read: metadata, likely read again) or cold (brought by a long or sequential read, or
/// read ahead: most likely read once); cold blocks go first, oldest first, and stay cold when
/// read.
pub(crate) struct Lru {
    blocks: HashMap<u64, (Block, u64)>,
    /// Use tick → block number, oldest first (all cold blocks before all hot ones).
    order: BTreeMap<u64, u64>,
    hot_tick: u64,
    cold_tick: u64,
    bytes: u64,
    cap: u64,
}

impl Lru {
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            blocks: HashMap::new(),
            order: BTreeMap::new(),
            hot_tick: HOT,
            cold_tick: 0,
            bytes: 0,
            cap,
        }
    }

    fn next_tick(&mut self, cold: bool) -> u64 {
        if cold {
            // Cold ticks stay below HOT: the counter would need 2^62 insertions to reach it.
            self.cold_tick = (self.cold_tick + 1).min(HOT - 1);
            self.cold_tick
        } else {
            self.hot_tick = self.hot_tick.saturating_add(1);
            self.hot_tick
        }
    }

    pub(crate) fn get(&mut self, n: u64) -> Option<Block> {
        let used = self.blocks.get(&n)?.1;
        self.order.remove(&used);
        let tick = self.next_tick(used < HOT);
        self.order.insert(tick, n);
        let (data, u) = self.blocks.get_mut(&n)?;
        *u = tick;
        Some(data.clone())
    }

    pub(crate) fn contains(&self, n: u64) -> bool {
        self.blocks.contains_key(&n)
    }

    pub(crate) fn insert(&mut self, n: u64, data: Block, cold: bool) {
        if let Some((old, used)) = self.blocks.remove(&n) {
            self.order.remove(&used);
            self.bytes -= old.len() as u64;
        }
        let tick = self.next_tick(cold);
        self.bytes += data.len() as u64;
        self.blocks.insert(n, (data, tick));
        self.order.insert(tick, n);
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
        c.insert(1, blk(10), false);
        c.insert(2, blk(10), false);
        c.insert(3, blk(10), false);
        assert!(c.get(1).is_some()); // 2 is now the oldest
        c.insert(4, blk(10), false);
        assert!(c.get(2).is_none());
        assert!(c.get(1).is_some() && c.get(3).is_some() && c.get(4).is_some());
        assert_eq!(c.bytes(), 30);
        c.insert(4, blk(5), false);
        assert_eq!(c.bytes(), 25);
        // A block larger than the cap does not stay.
        c.insert(9, blk(100), false);
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn cold_blocks_go_first() {
        let mut c = Lru::new(30);
        c.insert(1, blk(10), false);
        c.insert(2, blk(10), true);
        c.insert(3, blk(10), true);
        // Read again, a cold block stays cold; the hot block 1, older, outlives both.
        assert!(c.get(2).is_some());
        c.insert(4, blk(10), true);
        assert!(!c.contains(3), "the oldest cold block goes first");
        c.insert(5, blk(10), true);
        assert!(!c.contains(2));
        assert!(c.contains(1) && c.contains(4) && c.contains(5));
        c.insert(6, blk(10), false);
        assert!(!c.contains(4));
        assert!(c.contains(1) && c.contains(5) && c.contains(6));
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
