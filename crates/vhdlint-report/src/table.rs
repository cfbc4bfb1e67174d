//! The terminal table: one row per check with result, name, actual and required, as the
//! Certification Tool shows it, then the fix for each failure and warning.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use vhdlint_rules::Status;

use crate::Report;

fn colour(s: Status) -> Color {
    match s {
        Status::Pass => Color::Green,
        Status::Fail => Color::Red,
        Status::Warning => Color::Yellow,
        Status::Error => Color::Magenta,
        Status::Skipped => Color::DarkGrey,
    }
}

/// Renders the report as text; `colour` only when writing to a terminal, `width` its columns.
pub fn render(report: &Report, colour_on: bool, width: Option<u16>) -> String {
    let mut out = String::new();
    for img in &report.images {
        out.push_str(&format!(
            "{}  ({}, {} policy; {})\n",
            img.path, img.profile, report.policy, img.profile_reason
        ));
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        if colour_on {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(width.unwrap_or(160));
        t.set_header(["Result", "Check", "Actual", "Required"]);
        for c in &img.checks {
            let mut label = Cell::new(if c.waived.is_some() {
                format!("{} (waived)", c.status.label())
            } else {
                c.status.label().to_string()
            });
            if colour_on {
                label = label.fg(colour(c.status));
            }
            t.add_row(vec![
                label,
                Cell::new(format!("{}\n{}", c.title, c.id)),
                Cell::new(&c.actual),
                Cell::new(&c.required),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        let notable: Vec<_> = img
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Warning | Status::Error))
            .collect();
        for c in notable {
            out.push_str(&format!("\n{} {}: {}\n", c.status.label(), c.id, c.message));
            for e in c.evidence.iter().take(8) {
                let at = match (&e.path, e.line, e.offset) {
                    (Some(p), Some(l), _) => format!("{p}:{l}: "),
                    (Some(p), None, _) => format!("{p}: "),
                    (None, _, Some(o)) => format!("offset {o:#x}: "),
                    _ => String::new(),
                };
                out.push_str(&format!("    {at}{}\n", e.text));
            }
            if c.evidence.len() > 8 {
                out.push_str(&format!("    … and {} more\n", c.evidence.len() - 8));
            }
            if let Some(r) = &c.remedy {
                out.push_str(&format!("    fix: {r}\n"));
            }
            if let Some(w) = &c.waived {
                out.push_str(&format!("    waived: {w}\n"));
            }
        }
        let s = img.summary;
        let waived = img.checks.iter().filter(|c| c.waived.is_some()).count();
        if waived > 0 {
            out.push_str(&format!(
                "\n{waived} result(s) waived: they do not affect the exit code\n"
            ));
        }
        out.push_str(&format!(
            "\n{} passed, {} failed, {} warnings, {} skipped, {} errors\n\n",
            s.pass, s.fail, s.warning, s.skipped, s.error
        ));
    }
    for e in &report.expired_waivers {
        out.push_str(&format!(
            "expired waiver ignored: {} for {} (expired {}): {}\n",
            e.waiver.check,
            e.image,
            e.waiver.expires.as_deref().unwrap_or("?"),
            e.waiver.justification
        ));
    }
    out
}
