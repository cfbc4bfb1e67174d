//! JUnit XML, the test-result format every CI server reads (Jenkins, GitLab, Azure
//! Pipelines' PublishTestResults, GitHub test-report actions).
//!
//! One `<testsuite>` per image (`name` = the image path), one `<testcase>` per check
//! (`classname` = the image, `name` = the check ID):
//! - `fail` → `<failure message=… type=ID>` with actual, required, evidence and the fix;
//! - `error` (the check could not be evaluated) → `<error>`;
//! - `skipped` → `<skipped message=REASON/>`;
//! - `warning` → a passing test case whose `<system-out>` holds the warning;
//! - a waived result → a passing test case whose `<system-out>` says `waived: JUSTIFICATION`.
//!
//! Written by hand rather than through an XML library so that text from inside an image
//! (which may hold any byte) is always well-formed XML 1.0: markup characters are escaped,
//! and the characters XML 1.0 cannot carry at all (C0 controls other than tab, line feed
//! and carriage return; U+FFFE, U+FFFF) are written as a visible `\u{…}` escape.

use std::fmt::Write;

use vhdlint_rules::{CheckResult, ImageReport, Status};

use crate::Report;

/// Replaces the characters XML 1.0 forbids, then escapes markup. In attributes, tab, line
/// feed and carriage return are written as character references so that they survive
/// attribute-value normalisation; in text only `\r` is (a parser turns a bare CR into LF).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn attr(s: &str) -> String {
    escape(s, true)
}

fn text(s: &str) -> String {
    escape(s, false)
}

/// What a test case says beside its verdict: actual, required, evidence, fix.
fn details(c: &CheckResult) -> String {
    let mut s = format!(
        "{}\nactual: {}\nrequired: {}\n",
        c.title, c.actual, c.required
    );
    if !c.evidence.is_empty() {
        s.push_str("evidence:\n");
        for e in &c.evidence {
            s.push_str("  ");
            match (&e.path, e.line, e.offset) {
                (Some(p), Some(l), _) => {
                    let _ = write!(s, "{p}:{l}: ");
                }
                (Some(p), None, _) => {
                    let _ = write!(s, "{p}: ");
                }
                (None, _, Some(o)) => {
                    let _ = write!(s, "offset {o}: ");
                }
                (None, _, None) => {}
            }
            s.push_str(&e.text);
            s.push('\n');
        }
    }
    if let Some(r) = &c.remedy {
        let _ = writeln!(s, "fix: {r}");
    }
    s
}

/// How a check counts in JUnit terms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pass,
    Failure,
    Error,
    Skipped,
}

fn kind(c: &CheckResult) -> Kind {
    if c.waived.is_some() {
        return Kind::Pass;
    }
    match c.status {
        Status::Pass | Status::Warning => Kind::Pass,
        Status::Fail => Kind::Failure,
        Status::Error => Kind::Error,
        Status::Skipped => Kind::Skipped,
    }
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> Counts {
        let mut n = Counts::default();
        for c in checks {
            n.tests += 1;
            match kind(c) {
                Kind::Pass => {}
                Kind::Failure => n.failures += 1,
                Kind::Error => n.errors += 1,
                Kind::Skipped => n.skipped += 1,
            }
        }
        n
    }
    fn attrs(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

fn testcase(out: &mut String, img: &ImageReport, c: &CheckResult) {
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\"",
        attr(&img.path),
        attr(c.id)
    );
    let system_out = match (&c.waived, c.status) {
        (Some(j), s) => Some(format!(
            "waived: {j}\n{}: {}\n{}",
            s.label(),
            c.message,
            details(c)
        )),
        (None, Status::Warning) => Some(format!("warning: {}\n{}", c.message, details(c))),
        _ => None,
    };
    match (kind(c), system_out) {
        (Kind::Pass, None) => {
            let _ = writeln!(out, "{open}/>");
        }
        (Kind::Pass, Some(so)) => {
            let _ = writeln!(
                out,
                "{open}>\n      <system-out>{}</system-out>\n    </testcase>",
                text(&so)
            );
        }
        (Kind::Skipped, _) => {
            let _ = writeln!(
                out,
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(&c.message)
            );
        }
        (k @ (Kind::Failure | Kind::Error), _) => {
            let tag = if k == Kind::Failure {
                "failure"
            } else {
                "error"
            };
            let _ = writeln!(
                out,
                "{open}>\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>",
                attr(&c.message),
                attr(c.id),
                text(&details(c))
            );
        }
    }
}

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut all = Counts::of(report.images.iter().flat_map(|i| &i.checks));
    // An image that could not be read: a suite of one errored case, so the gate sees it.
    all.tests += report.unreadable.len();
    all.errors += report.unreadable.len();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" {}>",
        attr(report.tool.name),
        all.attrs()
    );
    for img in &report.images {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" {}>",
            attr(&img.path),
            Counts::of(&img.checks).attrs()
        );
        out.push_str("    <properties>\n");
        for (name, value) in [
            (
                "tool",
                format!("{} {}", report.tool.name, report.tool.version),
            ),
            ("policy", report.policy.clone()),
            ("profile", img.profile.as_str().to_string()),
            ("profile_reason", img.profile_reason.clone()),
            ("format", img.facts.format.to_string()),
        ] {
            let _ = writeln!(
                out,
                "      <property name=\"{name}\" value=\"{}\"/>",
                attr(&value)
            );
        }
        out.push_str("    </properties>\n");
        for c in &img.checks {
            testcase(&mut out, img, c);
        }
        out.push_str("  </testsuite>\n");
    }
    for u in &report.unreadable {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{path}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    \
             <testcase classname=\"{path}\" name=\"open\">\n      <error message=\"not linted: the image \
             could not be opened or read\" type=\"open\">{}</error>\n    </testcase>\n  </testsuite>",
            text(&u.error),
            path = attr(&u.path),
        );
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(
            attr("a<b>&\"c'\n\t\r\u{1b}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;&#13;\\u{1b}"
        );
        assert_eq!(
            text("a<b>\"\n\r\u{0}\u{FFFF}é"),
            "a&lt;b&gt;\"\n&#13;\\u{0}\\u{ffff}é"
        );
    }
}
