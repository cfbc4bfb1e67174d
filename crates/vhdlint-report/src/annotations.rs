//! CI annotations: GitHub Actions workflow commands and Azure Pipelines logging commands,
//! one per finding, so that failures show on the run's summary page.
//!
//! Both formats are line-based commands read from a step's output: everything taken from the
//! image (messages, evidence, paths) is escaped the way the runners' own toolkits escape it
//! (`@actions/core` and `azure-pipelines-task-lib`), so no text can end a command early or
//! start a new one.
//!
//! | status | GitHub | Azure |
//! |---|---|---|
//! | fail | `::error` | `logissue type=error` |
//! | warning | `::warning` | `logissue type=warning` |
//! | error (could not be evaluated) | `::notice` | `logissue type=warning` |
//! | waived fail or warning | `::notice` | a plain log line |
//!
//! Passed and skipped checks say nothing.

use std::fmt::Write;

use vhdlint_rules::{CheckResult, Status};

use crate::Report;

/// GitHub's escaping of a command's message (`escapeData` in `@actions/core`).
pub fn github_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a command property value (`escapeProperty` in `@actions/core`).
pub fn github_escape_property(s: &str) -> String {
    github_escape_data(s)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Azure's escaping of a logging command's message (`escapeData` in
/// `azure-pipelines-task-lib`).
pub fn azure_escape_data(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Azure's escaping of a logging command property value (`escape` in
/// `azure-pipelines-task-lib`).
pub fn azure_escape_property(s: &str) -> String {
    azure_escape_data(s).replace(';', "%3B").replace(']', "%5D")
}

/// The text of an annotation: title and message, then actual, required and the fix.
fn body(c: &CheckResult) -> String {
    let mut s = format!(
        "{}: {}\nactual: {}\nrequired: {}",
        c.title, c.message, c.actual, c.required
    );
    if let Some(r) = &c.remedy {
        let _ = write!(s, "\nfix: {r}");
    }
    if let Some(j) = &c.waived {
        let _ = write!(s, "\nwaived: {j}");
    }
    s
}

/// The checks worth a line: everything that neither passed nor was skipped.
fn notable(report: &Report) -> impl Iterator<Item = (&str, &CheckResult)> {
    report.images.iter().flat_map(|img| {
        img.checks
            .iter()
            .filter(|c| !matches!(c.status, Status::Pass | Status::Skipped))
            .map(move |c| (img.path.as_str(), c))
    })
}

/// GitHub Actions workflow commands: `::error file=IMAGE,title=ID::message`.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for (path, c) in notable(report) {
        let command = match (c.status, &c.waived) {
            (_, Some(_)) | (Status::Error, None) => "notice",
            (Status::Fail, None) => "error",
            _ => "warning",
        };
        let _ = writeln!(
            out,
            "::{command} file={},title={}::{}",
            github_escape_property(path),
            github_escape_property(c.id),
            github_escape_data(&body(c))
        );
    }
    out
}

/// Azure Pipelines logging commands: `##vso[task.logissue type=error;sourcepath=IMAGE;code=ID;]message`
/// per finding, then `##vso[task.complete result=…;]` — `Failed` when a check failed,
/// `SucceededWithIssues` when one warned or could not be evaluated, `Succeeded` otherwise
/// (waived results do not count, as for the exit code).
pub fn azure(report: &Report) -> String {
    let mut out = String::new();
    for (path, c) in notable(report) {
        if c.waived.is_some() {
            // A plain log line: not an issue, so it does not count against the task. The
            // agent looks for `##vso[` anywhere in a line, so none may appear in the text.
            let plain = |s: &str| azure_escape_data(s).replace("##vso[", "##vso%5B");
            let _ = writeln!(
                out,
                "vhdlint: {} {} ({}, waived): {}",
                plain(path),
                plain(c.id),
                c.status.as_str(),
                plain(&body(c))
            );
            continue;
        }
        let kind = if c.status == Status::Fail {
            "error"
        } else {
            "warning"
        };
        let _ = writeln!(
            out,
            "##vso[task.logissue type={kind};sourcepath={};code={};]{}",
            azure_escape_property(path),
            azure_escape_property(c.id),
            azure_escape_data(&body(c))
        );
    }
    let result = if report.any(Status::Fail) {
        "Failed"
    } else if report.any(Status::Warning) || report.any(Status::Error) {
        "SucceededWithIssues"
    } else {
        "Succeeded"
    };
    let _ = writeln!(out, "##vso[task.complete result={result};]");
    out
}
