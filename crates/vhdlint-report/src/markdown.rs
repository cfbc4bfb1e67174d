//! The Markdown report (GitHub-flavoured): the HTML report's content for pull-request
//! comments and wikis.
//!
//! Text from the image is escaped so it cannot start markup, links or raw HTML; paths, IDs and
//! evidence go in code spans. In table cells `|` is escaped and line breaks are folded.

use std::fmt::Write;

use vhdlint_rules::{CheckResult, ImageReport, Status};

use crate::html::{bytes, capitalise, human, location, serde_name, verdict};
use crate::Report;

/// Renders the report; `questionnaire` is the question/answer pairs, when given.
pub fn render(report: &Report, questionnaire: Option<&[(String, String)]>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# VHD image lint report\n");
    let v = verdict(report);
    let verdict = match v {
        Status::Fail => "**Failed**: at least one check failed",
        Status::Error => "**Incomplete**: some checks could not be evaluated",
        Status::Warning => "**Passed with warnings**",
        _ => "**Passed**",
    };
    let _ = writeln!(
        o,
        "{} {} · policy {} · {} image(s) · {verdict}\n",
        text(report.tool.name),
        text(report.tool.version),
        code_inline(&report.policy),
        report.images.len()
    );
    if !report.unreadable.is_empty() {
        o.push_str("## Not linted\n\nThese images could not be opened or read: they have no verdicts, and the run is incomplete.\n\n");
        for u in &report.unreadable {
            let _ = writeln!(o, "- {}: {}", code_inline(&u.path), text(&u.error));
        }
        o.push('\n');
    }
    for (i, img) in report.images.iter().enumerate() {
        image(&mut o, i, img);
    }
    if let Some(q) = questionnaire {
        o.push_str("## Questionnaire\n\n");
        if q.is_empty() {
            o.push_str("No answers were given.\n\n");
        } else {
            o.push_str("| # | Question | Answer |\n|---:|---|---|\n");
            for (n, (question, answer)) in q.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    n + 1,
                    cell(&text(question)),
                    cell(&text(answer))
                );
            }
            o.push('\n');
        }
    }
    while o.ends_with("\n\n") {
        o.pop();
    }
    o
}

/// Escapes Markdown-significant ASCII punctuation (CommonMark lets any of it be
/// backslash-escaped), so text from an image renders as itself: no emphasis, links, raw HTML
/// or entities. Line breaks are kept; [`cell`] folds them in tables.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '!' | '$'
            | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A code span that holds `s` verbatim whatever backticks it contains (on one line).
pub fn code_inline(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Makes already-rendered inline Markdown safe in a table cell: `|` escaped (GFM splits cells
/// on it even inside code spans), line breaks as `<br>`.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_backslash = false;
    for ch in s.chars() {
        match ch {
            '|' if !prev_backslash => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
        prev_backslash = ch == '\\' && !prev_backslash;
    }
    out
}

fn label(c: &CheckResult) -> String {
    let sym = match c.status {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Warning => "⚠️",
        Status::Error => "❓",
        Status::Skipped => "➖",
    };
    if c.waived.is_some() {
        format!("{sym} {} (waived)", c.status.label())
    } else {
        format!("{sym} {}", c.status.label())
    }
}

fn image(o: &mut String, i: usize, img: &ImageReport) {
    let f = &img.facts;
    let _ = writeln!(o, "## Image {}: {}\n", i + 1, code_inline(&img.path));
    let mut fact = |k: &str, v: String| {
        let _ = writeln!(o, "- **{k}:** {v}");
    };
    fact(
        "Profile",
        format!(
            "{} ({})",
            code_inline(img.profile.as_str()),
            text(&img.profile_reason)
        ),
    );
    // A publishing entry (a SAS URI, a SKU's metadata) has no disk facts.
    let disk = img.profile != vhdlint_rules::Profile::Publish;
    if disk {
        fact("Format", text(f.format));
    }
    if let Some(t) = &f.disk_type {
        fact("Disk type", text(t));
    }
    if let Some(v) = f.virtual_size {
        fact("Virtual size", bytes(v));
    }
    if disk {
        fact("File size", bytes(f.file_size));
    }
    if let Some(app) = &f.creator_application {
        let ver = f.creator_version.as_deref().unwrap_or("");
        fact("Creator", text(format!("{app} {ver}").trim()));
    }
    if let Some(s) = f.partition_scheme {
        fact("Partition table", text(&serde_name(&s).to_uppercase()));
    }
    if !f.partitions.is_empty() {
        let parts: Vec<String> = f
            .partitions
            .iter()
            .map(|p| {
                let mut s = format!("{} {} {}", p.number, text(&p.type_name), human(p.size()));
                if p.bootable {
                    s.push_str(" bootable");
                }
                if p.container {
                    s.push_str(" extended");
                }
                s
            })
            .collect();
        fact("Partitions", parts.join("; "));
    }
    if !f.volumes.is_empty() {
        let vols: Vec<String> = f
            .volumes
            .iter()
            .map(|v| {
                let mut s = format!(
                    "{} {} {}",
                    code_inline(&v.id),
                    text(v.filesystem),
                    human(v.size)
                );
                if let Some(l) = &v.label {
                    let _ = write!(s, " label {}", code_inline(l));
                }
                s
            })
            .collect();
        fact("Volumes", vols.join("; "));
    }
    if let Some(fam) = f.os_family {
        fact("Operating system", text(&capitalise(&serde_name(&fam))));
    }
    if let Some(l) = &f.linux {
        let os = &l.os;
        let dist = os
            .pretty_name
            .clone()
            .or_else(|| {
                os.id
                    .as_ref()
                    .map(|id| format!("{id} {}", os.version_id.as_deref().unwrap_or("")))
            })
            .unwrap_or_else(|| "unknown".into());
        fact("Distribution", text(dist.trim()));
        fact("Root volume", code_inline(&l.root_volume));
        if let Some(k) = &l.kernel {
            fact("Kernel", code_inline(k));
        }
        if !l.mounts.is_empty() {
            let m: Vec<String> = l
                .mounts
                .iter()
                .map(|m| {
                    format!(
                        "{} on {} ({})",
                        code_inline(&m.point),
                        code_inline(&m.volume),
                        text(m.filesystem)
                    )
                })
                .collect();
            fact("Mounts", m.join("; "));
        }
        if !l.not_mounted.is_empty() {
            let m: Vec<String> = l
                .not_mounted
                .iter()
                .map(|n| format!("{}: {}", code_inline(&n.point), text(&n.reason)))
                .collect();
            fact("Not mounted", m.join("; "));
        }
    }
    let s = img.summary;
    let _ = writeln!(
        o,
        "\n**Summary:** {} passed, {} failed, {} warnings, {} skipped, {} errors\n",
        s.pass, s.fail, s.warning, s.skipped, s.error
    );
    o.push_str("| Result | Check | Actual | Required |\n|---|---|---|---|\n");
    for c in &img.checks {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            cell(&label(c)),
            cell(&format!("{} {}", text(c.title), code_inline(c.id))),
            cell(&text(&c.actual)),
            cell(&text(&c.required))
        );
    }
    o.push('\n');
    let findings: Vec<&CheckResult> = img
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Error | Status::Warning))
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(o, "### Findings\n");
        for c in findings {
            let msg = if c.message.is_empty() {
                &c.actual
            } else {
                &c.message
            };
            let _ = writeln!(
                o,
                "- **{}** {}: {}",
                label(c),
                code_inline(c.id),
                indent(&text(msg))
            );
            for e in c
                .evidence
                .iter()
                .filter(|e| !(location(e).is_none() && e.text == c.message))
            {
                match location(e) {
                    Some(at) => {
                        let _ = writeln!(o, "  - {} {}", code_inline(&at), code_inline(&e.text));
                    }
                    None => {
                        let _ = writeln!(o, "  - {}", indent(&text(&e.text)));
                    }
                }
            }
            if let Some(r) = &c.remedy {
                let _ = writeln!(o, "  - **Remedy:** {}", indent(&text(r)));
            }
            if let Some(w) = &c.waived {
                let _ = writeln!(o, "  - **Waived:** {}", indent(&text(w)));
            }
        }
        o.push('\n');
    }
    let skipped: Vec<&CheckResult> = img
        .checks
        .iter()
        .filter(|c| c.status == Status::Skipped)
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            o,
            "<details><summary>Skipped ({})</summary>\n",
            skipped.len()
        );
        for c in skipped {
            let _ = writeln!(o, "- {}: {}", code_inline(c.id), indent(&text(&c.message)));
            if let Some(w) = &c.waived {
                let _ = writeln!(o, "  - **Waived:** {}", indent(&text(w)));
            }
        }
        o.push_str("\n</details>\n\n");
    }
}

/// Keeps a multi-line text inside its list item.
fn indent(s: &str) -> String {
    s.replace('\n', "\n    ")
}
