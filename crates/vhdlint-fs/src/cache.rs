//! Lookups that a run makes many times, kept for the rest of the run: the inode a path
//! resolved to, inodes by number, and the parsed entries of directories. The checks look up
//! the same directories over and over (the guest view resolves a path one directory level at
//! a time, and every check starts from the root), so without these a lookup re-reads every
//! inode on the way and re-scans every directory it passes.
//!
//! The images are read-only and nothing in a filesystem changes while it is open, so nothing
//! here is ever invalidated. Each cache is bounded (the constants of [`crate::limits`]): the
//! paths and inodes start again empty when they are full, the directories drop the least
//! recently used listings, and a directory larger than the whole budget is not kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::limits::{MAX_CACHED_DIR_BYTES, MAX_CACHED_INODE_BYTES, MAX_CACHED_PATHS};
use crate::FsError;

/// Bytes a listing entry costs beyond its name (number, type, index, vector slots).
const ENTRY_OVERHEAD: usize = 32;
/// Bytes an inode costs beyond its variable part.
const INODE_OVERHEAD: usize = 128;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The entries of one directory, `.` and `..` left out, and an index of their names.
#[derive(Debug)]
pub struct Listing {
    /// `(name, inode number, file type as stored)`, in directory order.
    pub entries: Vec<(Box<[u8]>, u64, u8)>,
    /// Positions in `entries`, sorted by name (equal names in directory order).
    by_name: Vec<u32>,
    cost: usize,
}

impl Listing {
    /// A listing of `entries` (in directory order).
    pub fn new(entries: Vec<(Box<[u8]>, u64, u8)>) -> Listing {
        let mut by_name: Vec<u32> = (0..entries.len() as u32).collect();
        by_name.sort_by(|&a, &b| entries[a as usize].0.cmp(&entries[b as usize].0));
        let cost = entries
            .iter()
            .map(|e| e.0.len() + ENTRY_OVERHEAD)
            .sum::<usize>();
        Listing {
            entries,
            by_name,
            cost,
        }
    }

    /// The first entry named `name`: its inode number and stored file type.
    pub fn get(&self, name: &[u8]) -> Option<(u64, u8)> {
        let i = self
            .by_name
            .partition_point(|&i| &*self.entries[i as usize].0 < name);
        let &at = self.by_name.get(i)?;
        let e = &self.entries[at as usize];
        (&*e.0 == name).then_some((e.1, e.2))
    }
}

/// Collects a directory's entries into a [`Listing`] while it fits the budget of the cache.
#[derive(Default)]
pub struct ListingBuilder {
    entries: Vec<(Box<[u8]>, u64, u8)>,
    cost: usize,
}

impl ListingBuilder {
    /// Adds an entry; `false` once the directory is too large to keep (then stop).
    pub fn push(&mut self, name: &[u8], ino: u64, file_type: u8) -> bool {
        self.cost += name.len() + ENTRY_OVERHEAD;
        if self.cost > MAX_CACHED_DIR_BYTES {
            self.entries = Vec::new();
            return false;
        }
        self.entries.push((name.into(), ino, file_type));
        true
    }

    /// The listing, `None` if the directory was too large to keep.
    pub fn finish(self) -> Option<Listing> {
        (self.cost <= MAX_CACHED_DIR_BYTES).then(|| Listing::new(self.entries))
    }
}

struct Inodes<I> {
    map: HashMap<u64, I>,
    bytes: usize,
}

struct Listings {
    /// Most recently used first.
    kept: Vec<(u64, Arc<Listing>)>,
    bytes: usize,
}

/// The caches of one open filesystem; `I` is its inode type.
pub struct LookupCache<I> {
    paths: Mutex<HashMap<Box<str>, u64>>,
    inodes: Mutex<Inodes<I>>,
    listings: Mutex<Listings>,
}

impl<I> Default for LookupCache<I> {
    fn default() -> Self {
        LookupCache {
            paths: Mutex::new(HashMap::new()),
            inodes: Mutex::new(Inodes {
                map: HashMap::new(),
                bytes: 0,
            }),
            listings: Mutex::new(Listings {
                kept: Vec::new(),
                bytes: 0,
            }),
        }
    }
}

impl<I: Clone> LookupCache<I> {
    /// Inode `ino`, read by `read` the first time; `weight` is the bytes of its variable part.
    pub fn inode(
        &self,
        ino: u64,
        read: impl FnOnce() -> Result<I, FsError>,
        weight: impl Fn(&I) -> usize,
    ) -> Result<I, FsError> {
        if let Some(i) = lock(&self.inodes).map.get(&ino) {
            return Ok(i.clone());
        }
        let i = read()?;
        let cost = weight(&i) + INODE_OVERHEAD;
        let mut c = lock(&self.inodes);
        if c.bytes + cost > MAX_CACHED_INODE_BYTES {
            c.map.clear();
            c.bytes = 0;
        }
        if cost <= MAX_CACHED_INODE_BYTES && c.map.insert(ino, i.clone()).is_none() {
            c.bytes += cost;
        }
        Ok(i)
    }

    /// The listing of directory `ino` if it is kept.
    pub fn listing(&self, ino: u64) -> Option<Arc<Listing>> {
        let mut c = lock(&self.listings);
        let at = c.kept.iter().position(|(i, _)| *i == ino)?;
        let e = c.kept.remove(at);
        let l = e.1.clone();
        c.kept.insert(0, e);
        Some(l)
    }

    /// Keeps `listing` of directory `ino` (unless it alone is over the budget), dropping the
    /// least recently used ones over the budget.
    pub fn keep_listing(&self, ino: u64, listing: Arc<Listing>) {
        if listing.cost > MAX_CACHED_DIR_BYTES {
            return;
        }
        let mut c = lock(&self.listings);
        if c.kept.iter().any(|(i, _)| *i == ino) {
            return;
        }
        c.bytes += listing.cost;
        c.kept.insert(0, (ino, listing));
        while c.bytes > MAX_CACHED_DIR_BYTES {
            match c.kept.pop() {
                Some((_, l)) => c.bytes -= l.cost,
                None => break,
            }
        }
    }

    /// Walks normalised `path` one directory at a time from the root directory `root`,
    /// starting from the deepest of its directories already resolved: `inode(n)` reads
    /// inode `n` (through [`LookupCache::inode`]), `is_dir` tells a directory, `lookup(dir,
    /// name)` finds the inode number of `name` in `dir` (`None`: not there). `.` is skipped;
    /// `..` is refused (the callers normalise paths, so one here would be a path that
    /// escapes). The errors are those of a walk from the root.
    pub fn resolve(
        &self,
        path: &str,
        root: u64,
        inode: impl Fn(u64) -> Result<I, FsError>,
        is_dir: impl Fn(&I) -> bool,
        mut lookup: impl FnMut(&I, &str) -> Result<Option<u64>, FsError>,
    ) -> Result<I, FsError> {
        let comps: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        // `/a/b/c` and where each prefix of it ends.
        let mut walked = String::with_capacity(path.len() + 1);
        let mut ends = Vec::with_capacity(comps.len());
        for c in &comps {
            walked.push('/');
            walked.push_str(c);
            ends.push(walked.len());
        }
        let (mut depth, mut ino) = (0, root);
        {
            let paths = lock(&self.paths);
            // `..` is never kept, so a prefix found holds none.
            for d in (1..=comps.len()).rev() {
                if let Some(&n) = paths.get(&walked[..ends[d - 1]]) {
                    (depth, ino) = (d, n);
                    break;
                }
            }
        }
        let mut cur = inode(ino)?;
        for d in depth..comps.len() {
            if !is_dir(&cur) {
                let parent = if d == 0 { "/" } else { &walked[..ends[d - 1]] };
                return Err(FsError::NotADirectory(parent.to_string()));
            }
            let here = &walked[..ends[d]];
            if comps[d] == ".." {
                return Err(FsError::NotFound(format!(
                    "{path} (paths must be normalised)"
                )));
            }
            let child = lookup(&cur, comps[d])?.ok_or_else(|| FsError::NotFound(here.into()))?;
            cur = inode(child)?;
            let mut paths = lock(&self.paths);
            if paths.len() >= MAX_CACHED_PATHS {
                paths.clear();
            }
            paths.insert(here.into(), child);
        }
        Ok(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(names: &[&str]) -> Listing {
        Listing::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_bytes().into(), i as u64 + 10, 1))
                .collect(),
        )
    }

    #[test]
    fn a_listing_finds_the_first_of_equal_names() {
        let l = listing(&["b", "a", "c", "a"]);
        assert_eq!(l.get(b"a"), Some((11, 1)));
        assert_eq!(l.get(b"b"), Some((10, 1)));
        assert_eq!(l.get(b"c"), Some((12, 1)));
        assert_eq!(l.get(b"d"), None);
        assert_eq!(l.get(b""), None);
        assert_eq!(listing(&[]).get(b"a"), None);
    }

    /// A tree of numbers: 1 is the root holding "a" = 2 (a directory) holding "b" = 3 (a
    /// file); lookups are counted.
    fn walk(c: &LookupCache<u64>, path: &str, lookups: &mut u32) -> Result<u64, FsError> {
        c.resolve(
            path,
            1,
            Ok,
            |i| *i < 3,
            |d, name| {
                *lookups += 1;
                Ok(match (*d, name) {
                    (1, "a") => Some(2),
                    (2, "b") => Some(3),
                    _ => None,
                })
            },
        )
    }

    #[test]
    fn resolved_paths_are_walked_once_and_errors_are_those_of_a_walk() {
        let c = LookupCache::default();
        let mut n = 0;
        assert_eq!(walk(&c, "/", &mut n), Ok(1));
        assert_eq!(walk(&c, "/a/./b", &mut n), Ok(3));
        assert_eq!(n, 2);
        assert_eq!(walk(&c, "/a/b", &mut n), Ok(3));
        assert_eq!(walk(&c, "/a", &mut n), Ok(2));
        assert_eq!(n, 2);
        assert_eq!(
            walk(&c, "/a/c", &mut n),
            Err(FsError::NotFound("/a/c".into()))
        );
        assert_eq!(n, 3);
        assert_eq!(
            walk(&c, "/a/b/c", &mut n),
            Err(FsError::NotADirectory("/a/b".into()))
        );
        assert!(
            matches!(walk(&c, "/a/../a", &mut n), Err(FsError::NotFound(p)) if p.contains("normalised"))
        );
        assert_eq!(
            walk(&LookupCache::default(), "/x", &mut n),
            Err(FsError::NotFound("/x".into()))
        );
    }

    #[test]
    fn caches_stay_within_their_bounds() {
        let c: LookupCache<u64> = LookupCache::default();
        let per = 1 + MAX_CACHED_DIR_BYTES / 3;
        for ino in 0..5u64 {
            let name = vec![b'x'; per - ENTRY_OVERHEAD];
            c.keep_listing(ino, Arc::new(Listing::new(vec![(name.into(), 1, 1)])));
            assert!(lock(&c.listings).bytes <= MAX_CACHED_DIR_BYTES);
        }
        // The two most recent are kept.
        assert!(c.listing(4).is_some() && c.listing(3).is_some() && c.listing(2).is_none());
        let huge = vec![b'x'; MAX_CACHED_DIR_BYTES];
        c.keep_listing(9, Arc::new(Listing::new(vec![(huge.into(), 1, 1)])));
        assert!(c.listing(9).is_none());
        let mut b = ListingBuilder::default();
        let n = MAX_CACHED_DIR_BYTES / (ENTRY_OVERHEAD + 8);
        assert!((0..n).all(|i| b.push(format!("{i:08}").as_bytes(), 1, 1)));
        assert!(!b.push(b"one-more", 1, 1) && b.finish().is_none());
        for ino in 0..(MAX_CACHED_INODE_BYTES / INODE_OVERHEAD * 2) as u64 {
            assert_eq!(c.inode(ino, || Ok(ino), |_| 0), Ok(ino));
            assert!(lock(&c.inodes).bytes <= MAX_CACHED_INODE_BYTES);
        }
        for i in 0..MAX_CACHED_PATHS + 10 {
            let p = format!("/a/{i}");
            let _ = c.resolve(&p, 1, Ok, |_| true, |_, _| Ok(Some(5)));
            assert!(lock(&c.paths).len() <= MAX_CACHED_PATHS);
        }
        // What is kept is not read again.
        assert_eq!(c.inode(u64::MAX, || Ok(1), |_| 0), Ok(1));
        assert_eq!(
            c.inode(u64::MAX, || Err(FsError::Io("x".into())), |_| 0),
            Ok(1)
        );
    }
}
