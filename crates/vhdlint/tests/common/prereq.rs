//! Skipping a test, or part of one, when the machine lacks a prerequisite (a tool, root, a
//! loop device, a Python module). Std only; shared by the tests of every crate of the
//! workspace by path (`#[path = ".../vhdlint/tests/common/prereq.rs"] mod prereq;`).
//!
//! With `VHDLINT_REQUIRE_PREREQS=1` (set by `scripts/test`, which installs every prerequisite)
//! a skip is a failure: the test panics with "missing prerequisite: …". Otherwise it writes a
//! `SKIP` line to the process's standard error, which the test harness does not capture, so
//! the line shows even when the test passes.
#![allow(dead_code)]

use std::io::Write;

/// The variable that turns skips into failures.
pub const REQUIRE_PREREQS: &str = "VHDLINT_REQUIRE_PREREQS";

/// Whether a missing prerequisite fails the test: `VHDLINT_REQUIRE_PREREQS` is `1`. Unset,
/// empty or `0` lets tests skip; any other value fails, so that a misspelt value does not
/// quietly let them skip.
pub fn prereqs_required() -> bool {
    match std::env::var(REQUIRE_PREREQS).as_deref() {
        Ok("1") => true,
        Ok("" | "0") | Err(std::env::VarError::NotPresent) => false,
        Ok(other) => panic!("{REQUIRE_PREREQS} must be 1, 0 or unset, not {other:?}"),
        Err(std::env::VarError::NotUnicode(v)) => {
            panic!("{REQUIRE_PREREQS} must be 1, 0 or unset, not {v:?}")
        }
    }
}

/// Skips `what` (a test, a fixture, a comparison) because of `why` (what is missing, and
/// where to get it): panics with "missing prerequisite: …" when `VHDLINT_REQUIRE_PREREQS=1`,
/// else writes `SKIP <test>: <what>: <why>` to standard error and returns, and the caller
/// goes on without it.
pub fn skip(what: &str, why: &str) {
    if prereqs_required() {
        panic!("missing prerequisite: {what}: {why} ({REQUIRE_PREREQS}=1)");
    }
    let thread = std::thread::current();
    let line = match thread.name() {
        Some(test) if test != "main" => format!("SKIP {test}: {what}: {why}"),
        _ => format!("SKIP {what}: {why}"),
    };
    // Straight to the stderr handle: `eprintln!` goes through the harness's capture, which
    // drops the output of passing tests.
    let _ = writeln!(std::io::stderr(), "{line}");
}
