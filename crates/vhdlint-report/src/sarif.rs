//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), for code-scanning dashboards
//! (GitHub code scanning, Azure DevOps' SARIF viewer, DefectDojo).
//!
//! A small hand-written model of the parts of the format vhdlint fills in, as ruff and
//! cargo-deny do; the tests validate the output against the official 2.1.0 JSON schema.
//!
//! Mapping:
//! - one `run`; `tool.driver.rules` has one descriptor per check of the catalogue, in
//!   catalogue order (id, title, what it looks at, why and how to fix it, its profiles);
//! - one `artifact` per image (the analysis target), with its file size;
//! - one `result` per check that neither passed nor was skipped: `fail` → level `error`,
//!   `warning` → `warning`, `error` → `note`. An `error` means the check could not be
//!   evaluated (evidence unreadable): it is not a finding about the image, and the exit code
//!   ignores it, so it is reported at the lowest level with the property
//!   `evaluationError: true` rather than as a defect;
//! - the location of a result is the image file (`artifactLocation.uri`, a relative URI
//!   reference or a `file:` URI) with a `region` at the evidence's byte offset when it has
//!   one, and the path inside the image as a logical location (`IMAGE::/etc/ssh/sshd_config`);
//!   further evidence goes to `relatedLocations`;
//! - a waived result carries an external, accepted `suppression` with the justification.

use serde::Serialize;
use vhdlint_rules::{CheckResult, Evidence, ImageReport, Status, CATALOGUE};

use crate::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/vhdlint/vhdlint";

#[derive(Serialize)]
struct SarifLog {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult>,
    properties: RunProperties,
}

#[derive(Serialize)]
struct RunProperties {
    policy: String,
}

#[derive(Serialize)]
struct Tool {
    driver: ToolComponent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolComponent {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Message,
    full_description: Message,
    help: Message,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    profiles: Vec<&'static str>,
    sources: Vec<&'static str>,
    tags: Vec<&'static str>,
}

/// Both `message` and `multiformatMessageString`: plain text, optional Markdown.
#[derive(Serialize)]
struct Message {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

impl Message {
    fn text(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            markdown: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

/// An image that could not be read (`invocation.toolExecutionNotifications`).
#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    location: ArtifactLocation,
    length: u64,
    roles: Vec<&'static str>,
    properties: ArtifactProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactProperties {
    format: &'static str,
    profile: &'static str,
    profile_reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    status: &'static str,
    actual: String,
    required: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remedy: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    evaluation_error: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<LocationProperties>,
}

#[derive(Serialize)]
struct LocationProperties {
    /// The line of the file inside the image the evidence is from.
    line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    byte_offset: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

/// A URI reference for a file path: `file:///…` for an absolute path, a relative reference
/// otherwise; every byte outside the unreserved set and `/` is percent-encoded (so a `:` in
/// a relative path cannot read as a scheme, nor `#` or `?` as a fragment or query).
pub fn path_uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(status: Status) -> &'static str {
    match status {
        Status::Fail => "error",
        Status::Warning => "warning",
        _ => "note",
    }
}

fn descriptor(meta: &'static vhdlint_rules::CheckMeta) -> ReportingDescriptor {
    let sources_md: String = meta.sources.iter().map(|s| format!("\n- {s}")).collect();
    ReportingDescriptor {
        id: meta.id,
        name: meta.title,
        short_description: Message::text(meta.title),
        full_description: Message::text(meta.what),
        help: Message {
            text: format!("{}\n\nFix: {}", meta.why, meta.remedy),
            markdown: Some(format!(
                "{}\n\n**Fix:** {}{}",
                meta.why,
                meta.remedy,
                if sources_md.is_empty() {
                    String::new()
                } else {
                    format!("\n\n**Sources:**{sources_md}")
                }
            )),
        },
        properties: RuleProperties {
            profiles: meta.profiles.iter().map(|p| p.as_str()).collect(),
            sources: meta.sources.to_vec(),
            tags: meta.id.split('/').next().into_iter().collect(),
        },
    }
}

fn evidence_location(
    image: &ImageReport,
    index: usize,
    e: &Evidence,
    id: Option<usize>,
) -> Location {
    let text = match (&e.path, e.line) {
        (Some(p), Some(l)) => format!("{p}:{l}: {}", e.text),
        (Some(p), None) => format!("{p}: {}", e.text),
        (None, _) => e.text.clone(),
    };
    Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: path_uri(&image.path),
                index,
            },
            region: e.offset.map(|o| Region { byte_offset: o }),
        },
        logical_locations: e
            .path
            .iter()
            .map(|p| LogicalLocation {
                name: p
                    .rsplit('/')
                    .find(|s| !s.is_empty())
                    .unwrap_or(p)
                    .to_string(),
                fully_qualified_name: format!("{}::{}", image.path, p),
                kind: "resource",
            })
            .collect(),
        message: Some(Message::text(text)),
        properties: e.line.map(|line| LocationProperties { line }),
    }
}

fn result(image: &ImageReport, index: usize, c: &CheckResult) -> SarifResult {
    // A report read back (`merge`) may name a check this build does not know: its result
    // keeps its ruleId, without an index into this build's rules.
    let rule_index = CATALOGUE.iter().position(|k| k.id == c.id);
    let located: Vec<&Evidence> = c
        .evidence
        .iter()
        .filter(|e| e.path.is_some() || e.offset.is_some())
        .collect();
    let mut locations = Vec::new();
    let mut related = Vec::new();
    match located.split_first() {
        Some((first, rest)) => {
            locations.push(evidence_location(image, index, first, None));
            related = rest
                .iter()
                .enumerate()
                .map(|(i, e)| evidence_location(image, index, e, Some(i + 1)))
                .collect();
        }
        None => locations.push(Location {
            id: None,
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: path_uri(&image.path),
                    index,
                },
                region: None,
            },
            logical_locations: Vec::new(),
            message: None,
            properties: None,
        }),
    }
    let mut text = c.message.clone();
    text.push_str(&format!(
        " (actual: {}; required: {})",
        c.actual, c.required
    ));
    SarifResult {
        rule_id: c.id,
        rule_index,
        level: level(c.status),
        message: Message::text(text),
        locations,
        related_locations: related,
        suppressions: c
            .waived
            .iter()
            .map(|j| Suppression {
                kind: "external",
                status: "accepted",
                justification: j.clone(),
            })
            .collect(),
        properties: ResultProperties {
            status: c.status.as_str(),
            actual: c.actual.clone(),
            required: c.required.clone(),
            remedy: c.remedy.clone(),
            evaluation_error: c.status == Status::Error,
        },
    }
}

/// The report as a SARIF 2.1.0 log.
pub fn render(report: &Report) -> String {
    let artifacts = report
        .images
        .iter()
        .enumerate()
        .map(|(i, img)| Artifact {
            location: ArtifactLocation {
                uri: path_uri(&img.path),
                index: i,
            },
            length: img.facts.file_size,
            roles: vec!["analysisTarget"],
            properties: ArtifactProperties {
                format: img.facts.format,
                profile: img.profile.as_str(),
                profile_reason: img.profile_reason.clone(),
            },
        })
        .collect();
    let results = report
        .images
        .iter()
        .enumerate()
        .flat_map(|(i, img)| {
            img.checks
                .iter()
                .filter(|c| !matches!(c.status, Status::Pass | Status::Skipped))
                .map(move |c| result(img, i, c))
        })
        .collect();
    let log = SarifLog {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: report.tool.name,
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: CATALOGUE.iter().map(|m| descriptor(m)).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: report.unreadable.is_empty(),
                tool_execution_notifications: report
                    .unreadable
                    .iter()
                    .map(|u| Notification {
                        level: "error",
                        message: Message {
                            text: format!("{}: not linted: {}", u.path, u.error),
                            markdown: None,
                        },
                    })
                    .collect(),
            }],
            artifacts,
            results,
            properties: RunProperties {
                policy: report.policy.clone(),
            },
        }],
    };
    serde_json::to_string_pretty(&log).expect("the SARIF model always serializes")
}
