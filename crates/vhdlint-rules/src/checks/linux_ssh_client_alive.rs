use crate::check::{CheckMeta, Evidence, Note, NoteKind, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/ssh-client-alive",
    title: "sshd ClientAliveInterval",
    what: "Evaluates sshd's configuration the way `sshd -T` does: /etc/ssh/sshd_config with every `Include` (globs in lexical order) expanded in place, the first value of a keyword wins, lines inside `Match` blocks do not count, time units are parsed (`3m` = 180). Missing means sshd's default, 0.",
    why: "Azure's load balancers drop idle TCP connections after about 4 minutes; sshd must send keep-alives more often (the guide asks for 180 s) or SSH sessions to the VM hang. Certification test 'ClientAliveInterval' checks it.",
    remedy: "Set `ClientAliveInterval 180` in /etc/ssh/sshd_config (before any Match block, and not overridden by an earlier line or an included file).",
    sources: &["Azure Marketplace VM image guide: ClientAliveInterval 180", "Certification Test Tool: ClientAliveInterval 30–235", "LISA AzureImageStandard verify_client_active_interval"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let p = ctx.policy;
    let required = match p.client_alive_recommended {
        Some(r) => format!(
            "{}..{} seconds, {r} recommended",
            p.client_alive_min, p.client_alive_max
        ),
        None => format!("{}..{} seconds", p.client_alive_min, p.client_alive_max),
    };
    let has_sshd = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .iter()
        .any(|b| g.view.exists(b));
    let cfg = match g.facts.sshd(&g.view) {
        Ok(c) => c,
        Err(vhdlint_guest::fs::FsError::NotFound(_)) if !has_sshd => {
            return Outcome::skipped("no SSH server is installed (no sshd, no /etc/ssh/sshd_config); see linux/ssh-server");
        }
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => {
            return Outcome::fail("not set (no /etc/ssh/sshd_config; sshd default 0)", required)
                .message("sshd is installed but /etc/ssh/sshd_config is missing, so ClientAliveInterval is sshd's default, 0")
                .evidence(Evidence::path("/etc/ssh/sshd_config", None, "missing"));
        }
        Err(e) => return Outcome::error(format!("/etc/ssh/sshd_config: {e}")),
    };
    // What sshd's configuration walk could not read (an include past a bound, a file that
    // could not be read) could hold the line in effect; syntax problems are sshd's own.
    let notes: Vec<Note> = cfg
        .issues
        .iter()
        .filter(|i| !matches!(i.kind, NoteKind::Syntax))
        .cloned()
        .collect();
    let ignored: Vec<Evidence> = cfg
        .ignored("ClientAliveInterval")
        .into_iter()
        .map(|s| {
            Evidence::path(
                s.path.clone(),
                Some(s.line),
                format!("{} (inside a Match block: does not apply)", s.text.trim()),
            )
        })
        .collect();
    let (secs, setting) = match cfg.client_alive_interval() {
        None => {
            return Outcome::fail("not set (sshd default 0)", required)
                .message("no active ClientAliveInterval line in /etc/ssh/sshd_config or the files it includes, so sshd uses 0 (no keep-alives)")
                .evidence(Evidence::path("/etc/ssh/sshd_config", None, "no ClientAliveInterval outside Match blocks"))
                .evidences(ignored).noted(notes)
        }
        Some(Err(bad)) => {
            return Outcome::fail(format!("invalid value \"{}\"", bad.raw), required)
                .message(format!("ClientAliveInterval \"{}\" is not a valid sshd time; sshd would refuse to start", bad.raw))
                .evidence(Evidence::path(bad.setting.path.clone(), Some(bad.setting.line), bad.setting.text.trim()))
        }
        Some(Ok(v)) => v,
    };
    let ev = Evidence::path(
        setting.path.clone(),
        Some(setting.line),
        setting.text.trim(),
    );
    let actual = format!("{secs} seconds");
    let status = if secs < p.client_alive_min || secs > p.client_alive_max {
        Status::Fail
    } else if p.client_alive_recommended.is_some_and(|r| r != secs) {
        Status::Warning
    } else {
        Status::Pass
    };
    let out = Outcome::with_status(status, actual, required)
        .evidence(ev)
        .evidences(ignored);
    let out = match status {
        Status::Fail => out.message(format!(
            "ClientAliveInterval is {secs} s at {}:{}, outside {}..{}",
            setting.path, setting.line, p.client_alive_min, p.client_alive_max
        )),
        Status::Warning => out.message(format!(
            "ClientAliveInterval is {secs} s; the guide recommends {}",
            p.client_alive_recommended.unwrap_or(180)
        )),
        _ => out,
    };
    out.noted(notes)
}
