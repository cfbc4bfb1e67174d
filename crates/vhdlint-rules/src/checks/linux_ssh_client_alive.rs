use crate::check::{CheckMeta, Evidence, Note, NoteKind, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

/// The file LISA's fallback reads, and the drop-in it adds on Ubuntu.
const MAIN_CONFIG: &str = "/etc/ssh/sshd_config";
const UBUNTU_CLOUDIMG: &str = "/etc/ssh/sshd_config.d/50-cloudimg-settings.conf";

/// What LISA's reading of the configuration files without `sshd -T` finds: the value of the
/// last line starting `ClientAliveInterval` followed by whitespace (up to a `#`), in the main
/// file followed, on Ubuntu, by the cloud image's drop-in. `Ok(n)` for a value in LISA's
/// range 1..235, `Err(what it found)` otherwise.
fn lisa_fallback(texts: &[(&str, &str)]) -> Result<u64, String> {
    let mut last: Option<(&str, &str)> = None;
    for (path, text) in texts {
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("ClientAliveInterval") else {
                continue;
            };
            if !rest.starts_with(|c: char| c.is_whitespace()) {
                continue;
            }
            let value = rest.split('#').next().unwrap_or("");
            // `\s+` takes all the whitespace it can, so the value starts at the first other
            // character; an all-blank rest leaves the value empty.
            last = Some((path, value.trim_start()));
        }
    }
    let Some((path, value)) = last else {
        return Err("no line starting ClientAliveInterval".into());
    };
    // Python's int() allows surrounding whitespace and a sign, nothing else.
    match value.trim().parse::<i64>() {
        Ok(n) if n > 0 && n < 236 => Ok(n as u64),
        Ok(n) => Err(format!("ClientAliveInterval {n} in {path}, outside 1..235")),
        Err(_) => Err(format!(
            "ClientAliveInterval \"{}\" in {path}, not a whole number of seconds",
            value.trim()
        )),
    }
}

pub static META: CheckMeta = CheckMeta {
    id: "linux/ssh-client-alive",
    title: "sshd ClientAliveInterval",
    what: "Evaluates sshd's configuration the way `sshd -T` does: /etc/ssh/sshd_config with every `Include` (globs in lexical order) expanded in place, the first value of a keyword wins, but one in a `Match all` block wins over it (sshd reads the configuration again for each connection and keeps what matching Match blocks set), lines inside other `Match` blocks do not count, time units are parsed as sshd's `convtime` does (`3m` = 180, `1h30s`, `+90`). A value sshd refuses on any line (also inside a Match block or after the line in effect) means sshd would not start. Missing means sshd's default, 0. The current policy also reads /etc/ssh/sshd_config alone as LISA's verify_client_active_interval does when `sshd -T` cannot run (the last line starting `ClientAliveInterval`, plus /etc/ssh/sshd_config.d/50-cloudimg-settings.conf on Ubuntu, taken as a whole number): a value in effect that this reading would not find or would judge out of range (set only in an included drop-in file, say) warns.",
    why: "Azure's load balancers drop idle TCP connections after about 4 minutes; sshd must send keep-alives more often (the guide asks for 180 s) or SSH sessions to the VM hang. Certification test 'ClientAliveInterval' checks it.",
    remedy: "Set `ClientAliveInterval 180` in /etc/ssh/sshd_config itself (before any Match block, and not overridden by an earlier line, an included file or a `Match all` block); a value set only in a file under /etc/ssh/sshd_config.d is not seen by certification's reading of the main file.",
    sources: &["Azure Marketplace VM image guide: ClientAliveInterval 180", "Certification Test Tool: ClientAliveInterval 30–235", "LISA AzureImageStandard.verify_client_active_interval"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: a ClientAliveInterval line the check found is set to
/// 180 in the file that holds it, and /etc/ssh/sshd_config gets `ClientAliveInterval 180` as
/// its first line unless its first setting before any Match block already is that (sshd keeps
/// the first value it reads, so a line above the Include of the drop-ins wins; the drop-in
/// that set another value was changed to agree, not fought).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let mut sh = String::new();
    for e in &r.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        let word = e.text.split_whitespace().next().unwrap_or("");
        if !path.starts_with('/') || !word.eq_ignore_ascii_case("ClientAliveInterval") {
            continue;
        }
        sh.push_str(&format!(
            "f={}\nif [ -f \"$f\" ] && sed -n '{line}p' \"$f\" | grep -qi '^[[:space:]]*ClientAliveInterval[[:space:]]' && ! sed -n '{line}p' \"$f\" | grep -qx '[[:space:]]*ClientAliveInterval 180'; then\n    sed -i '{line}s/.*/ClientAliveInterval 180/' \"$f\"; say \"set ClientAliveInterval 180 at $f:{line}\"\nfi\n",
            sh_quote(path)
        ));
    }
    sh.push_str("f=/etc/ssh/sshd_config\nif ! awk 'BEGIN { r = 1 } tolower($1) == \"match\" { exit } tolower($1) == \"clientaliveinterval\" { r = ($2 == \"180\") ? 0 : 1; exit } END { exit r }' \"$f\" 2>/dev/null; then\n    if [ -s \"$f\" ]; then sed -i '1i ClientAliveInterval 180' \"$f\"; else echo 'ClientAliveInterval 180' >>\"$f\"; fi\n    say \"added ClientAliveInterval 180 as the first line of $f\"\nfi\n");
    Some(crate::fix::Block {
        changes: "sets ClientAliveInterval 180 (within 30-235 seconds, the value of Microsoft's guide) where it was found and as the first setting of /etc/ssh/sshd_config".into(),
        sh,
    })
}

/// The thresholds of this check: the `["linux/ssh-client-alive"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// The accepted range of ClientAliveInterval, in seconds.
    pub min: u64,
    pub max: u64,
    /// The recommended value (0: none); another value in the range is a warning.
    #[serde(with = "crate::policy::zero_is_none")]
    pub recommended: Option<u64>,
    /// What a value in effect gets when /etc/ssh/sshd_config read alone, as LISA reads it when
    /// `sshd -T` cannot run, would not give a value in 1..235 ("accept": not looked at).
    #[serde(with = "crate::policy::accept_is_none")]
    pub drop_in_only: Option<Level>,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            min: 30,
            max: 235,
            recommended: Some(180),
            drop_in_only: None,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            min: 1,
            max: 235,
            recommended: None,
            drop_in_only: Some(Level::Warning),
        }
    }
}

impl Thresholds {
    /// A range whose minimum lies above its maximum admits no value.
    pub fn validate(&self) -> Result<(), String> {
        if self.min > self.max {
            return Err(format!(
                "[\"linux/ssh-client-alive\"] min = {} with max = {}: the minimum must be at most the maximum",
                self.min, self.max
            ));
        }
        Ok(())
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let p = &ctx.policy.linux_ssh_client_alive;
    let required = match p.recommended {
        Some(r) => format!("{}..{} seconds, {r} recommended", p.min, p.max),
        None => format!("{}..{} seconds", p.min, p.max),
    };
    // A binary that could not be looked up is not taken for absent (the note makes a skip an
    // error).
    let mut lookup = Vec::new();
    let has_sshd = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .iter()
        .any(|b| g.view.exists_noted(b, &mut lookup));
    let cfg = match g.facts.sshd(&g.view) {
        Ok(c) => c,
        Err(vhdlint_guest::fs::FsError::NotFound(_)) if !has_sshd => {
            return Outcome::skipped("no SSH server is installed (no sshd, no /etc/ssh/sshd_config); see linux/ssh-server").noted(lookup);
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
    let status = if secs < p.min || secs > p.max {
        Status::Fail
    } else if p.recommended.is_some_and(|r| r != secs) {
        Status::Warning
    } else {
        Status::Pass
    };
    // As LISA reads the files when `sshd -T` cannot run: only when the value in effect passes
    // does a difference matter (a failure already says what to fix).
    let mut fallback_problem = None;
    if let (Some(level), Status::Pass | Status::Warning) = (p.drop_in_only, status) {
        let mut texts = Vec::new();
        match g.view.read_config(MAIN_CONFIG) {
            Ok(t) => texts.push((MAIN_CONFIG, t)),
            Err(e) => return Outcome::error(format!("{MAIN_CONFIG}: {e}")),
        }
        let os = vhdlint_guest::linux::os_release(&g.view);
        if os.id.as_deref() == Some("ubuntu") {
            if let Some(t) = g.view.read_noted(UBUNTU_CLOUDIMG, &mut Vec::new()) {
                texts.push((UBUNTU_CLOUDIMG, t));
            }
        }
        let borrowed: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (*p, t.as_str())).collect();
        if let Err(found) = lisa_fallback(&borrowed) {
            fallback_problem = Some((
                level,
                if setting.path == MAIN_CONFIG {
                    format!(
                        "ClientAliveInterval {secs} is in effect (from {}:{}), but {MAIN_CONFIG} read alone, as LISA's verify_client_active_interval reads it when `sshd -T` cannot run, gives {found}",
                        setting.path, setting.line
                    )
                } else {
                    format!(
                        "ClientAliveInterval {secs} is set in {}:{}, a file {MAIN_CONFIG} includes; read alone, as LISA's verify_client_active_interval reads it when `sshd -T` cannot run, {MAIN_CONFIG} gives {found}: set it in {MAIN_CONFIG} too",
                        setting.path, setting.line
                    )
                },
            ));
        }
    }
    let status = match &fallback_problem {
        Some((level, _)) => status.max(level.status()),
        None => status,
    };
    let out = Outcome::with_status(status, actual, required)
        .evidence(ev)
        .evidences(ignored);
    let out = match (status, &fallback_problem) {
        (Status::Warning | Status::Fail, Some((_, said))) => {
            let also = p
                .recommended
                .filter(|&r| r != secs)
                .map(|r| format!("; ClientAliveInterval is {secs} s; the guide recommends {r}"))
                .unwrap_or_default();
            return out.message(format!("{said}{also}")).noted(notes);
        }
        _ => out,
    };
    let out = match status {
        Status::Fail => out.message(format!(
            "ClientAliveInterval is {secs} s at {}:{}, outside {}..{}",
            setting.path, setting.line, p.min, p.max
        )),
        Status::Warning => out.message(format!(
            "ClientAliveInterval is {secs} s; the guide recommends {}",
            p.recommended.unwrap_or(180)
        )),
        _ => out,
    };
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::{MAX_CONFIG_BYTES, MAX_SSHD_INCLUDED_FILES};

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_with, said, MemFs,
    };

    const CONFIG: &str = "/etc/ssh/sshd_config";

    fn sshd(config: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/usr/sbin/sshd", "").file(CONFIG, config);
        fs
    }

    fn interval(value: &str, policy: &Policy) -> Outcome {
        let fs = sshd(&format!("Port 22\nClientAliveInterval {value}\n"));
        run_linux_with(fs, policy, run)
    }

    fn assert_seconds(o: &Outcome, status: Status, secs: u64) {
        let s = said(o);
        assert_eq!(o.status, status, "{s}");
        assert_eq!(o.actual, format!("{secs} seconds"), "{s}");
        assert!(
            s.contains(&format!("{CONFIG}:2 ClientAliveInterval")),
            "{s}"
        );
    }

    /// A guest whose sshd_config includes sshd_config.d/*.conf after `main`, with `drop_in`
    /// as sshd_config.d/`name`.
    fn with_drop_in(main: &str, name: &str, drop_in: &str) -> MemFs {
        let mut fs = sshd(&format!("Include /etc/ssh/sshd_config.d/*.conf\n{main}"));
        fs.file(&format!("/etc/ssh/sshd_config.d/{name}"), drop_in);
        fs
    }

    #[test]
    fn current_warns_when_the_value_is_only_in_a_drop_in() {
        let fs = with_drop_in("Port 22\n", "10-azure.conf", "ClientAliveInterval 180\n");
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "180 seconds");
        assert_eq!(
            o.message,
            "ClientAliveInterval 180 is set in /etc/ssh/sshd_config.d/10-azure.conf:1, a file /etc/ssh/sshd_config includes; read alone, as LISA's verify_client_active_interval reads it when `sshd -T` cannot run, /etc/ssh/sshd_config gives no line starting ClientAliveInterval: set it in /etc/ssh/sshd_config too"
        );
        // The guide does not look at it.
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_passes_when_the_main_file_says_it_too() {
        let fs = with_drop_in(
            "ClientAliveInterval 120\n",
            "10-azure.conf",
            "ClientAliveInterval 180\n",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "180 seconds");
    }

    #[test]
    fn current_reads_ubuntus_cloud_image_drop_in_as_lisa_does() {
        let mut fs = with_drop_in(
            "Port 22\n",
            "50-cloudimg-settings.conf",
            "ClientAliveInterval 120\n",
        );
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        fs.file("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_warns_when_the_main_files_last_line_differs_from_sshds_reading() {
        for (main, found) in [
            // sshd takes the first; LISA's reading the last.
            (
                "ClientAliveInterval 180\nClientAliveInterval 0\n",
                "ClientAliveInterval 0 in /etc/ssh/sshd_config, outside 1..235",
            ),
            // sshd reads a time; LISA a whole number.
            (
                "ClientAliveInterval 3m\n",
                "ClientAliveInterval \"3m\" in /etc/ssh/sshd_config, not a whole number of seconds",
            ),
        ] {
            let o = run_linux_with(sshd(main), &Policy::current(), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{main:?}: {s}");
            assert!(o.message.ends_with(&format!("gives {found}")), "{s}");
            assert_eq!(o.actual, "180 seconds", "{s}");
        }
        // LISA's pattern: at the start of the line, anything to a # is the value.
        for main in [
            "ClientAliveInterval 180 # keep-alive\n",
            "ClientAliveInterval\t180\n",
            "clientaliveinterval 180\nClientAliveInterval 180\n",
        ] {
            let o = run_linux_with(sshd(main), &Policy::current(), run);
            assert_eq!(o.status, Status::Pass, "{main:?}: {}", said(&o));
        }
    }

    #[test]
    fn a_failure_is_not_turned_into_the_drop_in_warning() {
        let fs = with_drop_in("Port 22\n", "10-azure.conf", "ClientAliveInterval 300\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("outside 1..235"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn skipped_without_an_ssh_server() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(
            o.message.contains("no SSH server is installed"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_where_sshd_would_be_cannot_be_read() {
        // /usr/sbin cannot be listed: whether sshd is installed is unknown, not "no".
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/usr/sbin",
            vhdlint_guest::fs::FsError::Corrupt("/usr/sbin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/usr/sbin: bad directory block"), "{s}");
        assert!(s.contains("no SSH server is installed"), "{s}");
    }

    #[test]
    fn fails_when_sshd_is_installed_without_a_config() {
        for bin in ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"] {
            let mut fs = MemFs::new();
            fs.file(bin, "");
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{bin}: {s}");
            assert_eq!(
                o.actual,
                "not set (no /etc/ssh/sshd_config; sshd default 0)"
            );
            assert!(s.contains("/etc/ssh/sshd_config missing"), "{s}");
        }
    }

    #[test]
    fn error_when_the_config_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.repeat(CONFIG, b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.starts_with("/etc/ssh/sshd_config: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_when_not_set() {
        let o = run_linux(sshd("Port 22\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "not set (sshd default 0)");
        assert!(
            s.contains("no ClientAliveInterval outside Match blocks"),
            "{s}"
        );
    }

    #[test]
    fn fails_when_only_set_inside_a_match_block() {
        let o = run_linux(
            sshd("Port 22\nMatch User azureuser\n  ClientAliveInterval 180\n"),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "not set (sshd default 0)");
        assert!(
            s.contains(
                "/etc/ssh/sshd_config:3 ClientAliveInterval 180 (inside a Match block: does not apply)"
            ),
            "{s}"
        );
    }

    #[test]
    fn fails_on_an_invalid_value() {
        let o = run_linux(sshd("Port 22\nClientAliveInterval 3x\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "invalid value \"3x\"");
        assert!(
            s.contains("/etc/ssh/sshd_config:2 ClientAliveInterval 3x"),
            "{s}"
        );
    }

    #[test]
    fn passes_at_the_recommended_180() {
        let o = interval("180", &Policy::guide());
        assert_seconds(&o, Status::Pass, 180);
        assert_eq!(o.required, "30..235 seconds, 180 recommended");
    }

    #[test]
    fn reads_time_units() {
        assert_seconds(&interval("3m", &Policy::guide()), Status::Pass, 180);
    }

    #[test]
    fn warns_when_not_the_recommended_180() {
        for secs in [30, 179, 181, 235] {
            let o = interval(&secs.to_string(), &Policy::guide());
            assert_seconds(&o, Status::Warning, secs);
            assert_eq!(
                o.message,
                format!("ClientAliveInterval is {secs} s; the guide recommends 180")
            );
        }
    }

    #[test]
    fn guide_fails_below_30() {
        let o = interval("29", &Policy::guide());
        assert_seconds(&o, Status::Fail, 29);
        assert_eq!(
            o.message,
            "ClientAliveInterval is 29 s at /etc/ssh/sshd_config:2, outside 30..235"
        );
    }

    #[test]
    fn guide_fails_above_235() {
        let o = interval("236", &Policy::guide());
        assert_seconds(&o, Status::Fail, 236);
        assert_eq!(
            o.message,
            "ClientAliveInterval is 236 s at /etc/ssh/sshd_config:2, outside 30..235"
        );
    }

    #[test]
    fn current_passes_across_its_range_without_a_recommendation() {
        for secs in [1, 30, 180, 235] {
            let o = interval(&secs.to_string(), &Policy::current());
            assert_seconds(&o, Status::Pass, secs);
            assert_eq!(o.required, "1..235 seconds");
        }
    }

    #[test]
    fn current_fails_outside_its_range() {
        assert_seconds(&interval("0", &Policy::current()), Status::Fail, 0);
        assert_seconds(&interval("236", &Policy::current()), Status::Fail, 236);
    }

    #[test]
    fn shows_a_match_block_line_beside_the_active_one() {
        let o = run_linux(
            sshd("Port 22\nClientAliveInterval 180\nMatch Address 10.*\n  ClientAliveInterval 0\n"),
            run,
        );
        let s = said(&o);
        assert_seconds(&o, Status::Pass, 180);
        assert!(
            s.contains("/etc/ssh/sshd_config:4 ClientAliveInterval 0 (inside a Match block"),
            "{s}"
        );
    }

    #[test]
    fn an_issue_that_is_not_a_bound_changes_nothing() {
        let o = run_linux(sshd("Port 22\nClientAliveInterval 180\nBanner\n"), run);
        assert_seconds(&o, Status::Pass, 180);
        assert_eq!(o.evidence.len(), 1, "{}", said(&o));
    }

    #[test]
    fn an_included_file_over_its_bound_is_named_at_the_include_line() {
        let mut fs = sshd("Port 22\nClientAliveInterval 180\nInclude sshd_config.d/*.conf\n");
        fs.repeat(
            "/etc/ssh/sshd_config.d/big.conf",
            b'#',
            MAX_CONFIG_BYTES + 1,
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "180 seconds");
        assert!(
            o.evidence.iter().any(|e| e.path.as_deref() == Some(CONFIG)
                && e.line == Some(3)
                && e.text.contains("/etc/ssh/sshd_config.d/big.conf")),
            "{s}"
        );
    }

    #[test]
    fn too_many_included_files_are_named() {
        let mut fs = sshd("Include /etc/ssh/d/*.conf\n");
        for i in 0..=MAX_SSHD_INCLUDED_FILES {
            fs.file(&format!("/etc/ssh/d/{i:05}.conf"), "");
        }
        fs.file("/etc/ssh/d/99999.conf", "ClientAliveInterval 180\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        // The line in effect is past the bound: not set, and the result says why it may be wrong.
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "not set (sshd default 0)");
        assert!(
            o.evidence.iter().any(|e| e.line == Some(1)
                && e.text.contains(&format!(
                    "too many included files (more than {MAX_SSHD_INCLUDED_FILES}"
                ))),
            "{s}"
        );
    }

    #[test]
    fn a_policy_range_may_be_one_value_but_not_empty() {
        let mut t = super::Thresholds::guide();
        (t.min, t.max) = (180, 180);
        assert_eq!(t.validate(), Ok(()));
        t.min = 181;
        let e = t.validate().unwrap_err();
        assert!(e.contains("min = 181 with max = 180"), "{e}");
    }
}
