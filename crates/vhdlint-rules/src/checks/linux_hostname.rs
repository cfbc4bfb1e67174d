use vhdlint_guest::fs::FsError;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/hostname",
    title: "Host name reset",
    what: "Reads /etc/hostname: absent, empty, `localhost` or `localhost.localdomain` pass.",
    why: "Azure sets the host name of each VM at provisioning; a host name baked into the image can survive and give every VM the same name.",
    remedy: "echo localhost.localdomain > /etc/hostname (or remove the file)",
    sources: &["Azure Marketplace VM image guide: set the host name to localhost.localdomain"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/etc/hostname";
    let required = "absent, empty, localhost or localhost.localdomain";
    let text = match g.view.read_config(path) {
        Ok(t) => t,
        Err(FsError::NotFound(_)) => return Outcome::pass("absent", required),
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
    let name = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if matches!(name, "" | "localhost" | "localhost.localdomain") {
        return Outcome::pass(if name.is_empty() { "empty" } else { name }, required)
            .evidence(Evidence::path(path, None, name));
    }
    Outcome::warning(name, required)
        .message(format!("{path} sets the host name \"{name}\""))
        .evidence(Evidence::path(
            path,
            Some(text.lines().position(|l| l.trim() == name).unwrap_or(0) + 1),
            name,
        ))
}
