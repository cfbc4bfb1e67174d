//! Wall time and bytes read of the checks and of the shared facts (`--timings`).
//!
//! A run that wants timings calls [`record`] on the thread that runs the checks; each check
//! then runs inside [`span`] and each shared fact's first computation inside [`fact`]. Spans
//! nest: a fact computed the first time inside a check is its own entry, and its time and bytes
//! are left out of the check's (and of any fact that triggered it), so no byte or microsecond
//! is counted twice and the entries add up to the run. Without [`record`], [`span`] and
//! [`fact`] only run their closure.
//!
//! Bytes are the source's own count ([`crate::ReadAt::bytes_read`]) before and after, so the
//! checks must run one at a time while recording for each figure to be that check's.

use std::cell::RefCell;
use std::time::{Duration, Instant};

/// What an entry measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Check,
    Fact,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Fact => "fact",
        }
    }
}

/// One check or shared fact: its own wall time and bytes read, those of the facts it
/// triggered left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub kind: Kind,
    pub name: String,
    pub elapsed: Duration,
    pub bytes_read: u64,
}

struct Frame {
    start: Instant,
    bytes0: u64,
    inner_time: Duration,
    inner_bytes: u64,
}

struct Recorder {
    bytes: Box<dyn Fn() -> u64>,
    stack: Vec<Frame>,
    done: Vec<Timing>,
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

/// Runs `f` recording the spans it runs on this thread, with `bytes` giving the bytes read so
/// far; returns what `f` returned and the entries, in the order they ended.
pub fn record<T>(bytes: impl Fn() -> u64 + 'static, f: impl FnOnce() -> T) -> (T, Vec<Timing>) {
    let previous = RECORDER.with(|r| {
        r.borrow_mut().replace(Recorder {
            bytes: Box::new(bytes),
            stack: Vec::new(),
            done: Vec::new(),
        })
    });
    let out = f();
    let mine = RECORDER.with(|r| std::mem::replace(&mut *r.borrow_mut(), previous));
    (out, mine.map(|m| m.done).unwrap_or_default())
}

/// Runs `f` as a shared fact named `name` (see the module).
pub fn fact<T>(name: &str, f: impl FnOnce() -> T) -> T {
    span(Kind::Fact, name, f)
}

/// Runs `f` as an entry of `kind` named `name` (see the module).
pub fn span<T>(kind: Kind, name: &str, f: impl FnOnce() -> T) -> T {
    let started = RECORDER.with(|r| {
        let mut r = r.borrow_mut();
        let r = r.as_mut()?;
        let bytes0 = (r.bytes)();
        r.stack.push(Frame {
            start: Instant::now(),
            bytes0,
            inner_time: Duration::ZERO,
            inner_bytes: 0,
        });
        Some(())
    });
    let out = f();
    if started.is_some() {
        RECORDER.with(|r| {
            let mut r = r.borrow_mut();
            let Some(r) = r.as_mut() else { return };
            let Some(frame) = r.stack.pop() else { return };
            let elapsed = frame.start.elapsed();
            let bytes = (r.bytes)().saturating_sub(frame.bytes0);
            if let Some(parent) = r.stack.last_mut() {
                parent.inner_time += elapsed;
                parent.inner_bytes += bytes;
            }
            r.done.push(Timing {
                kind,
                name: name.to_string(),
                elapsed: elapsed.saturating_sub(frame.inner_time),
                bytes_read: bytes.saturating_sub(frame.inner_bytes),
            });
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn nothing_is_recorded_without_a_recorder() {
        assert_eq!(span(Kind::Check, "a", || 7), 7);
        let ((), t) = record(|| 0, || {});
        assert!(t.is_empty());
    }

    #[test]
    fn a_fact_inside_a_check_is_its_own_entry_and_is_left_out_of_the_check() {
        let read = Rc::new(Cell::new(0u64));
        let r = read.clone();
        let (out, t) = record(
            move || r.get(),
            || {
                span(Kind::Check, "c", || {
                    read.set(read.get() + 10);
                    fact("f", || {
                        read.set(read.get() + 100);
                        fact("g", || read.set(read.get() + 1000));
                    });
                    read.set(read.get() + 1);
                    5
                })
            },
        );
        assert_eq!(out, 5);
        let by = |n: &str| t.iter().find(|x| x.name == n).unwrap().clone();
        assert_eq!((by("g").kind, by("g").bytes_read), (Kind::Fact, 1000));
        assert_eq!((by("f").kind, by("f").bytes_read), (Kind::Fact, 100));
        assert_eq!((by("c").kind, by("c").bytes_read), (Kind::Check, 11));
        assert_eq!(t.len(), 3);
        // Outside the recorder again: nothing more is kept.
        assert_eq!(fact("h", || 1), 1);
    }
}
