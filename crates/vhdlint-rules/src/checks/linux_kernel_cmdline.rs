use crate::check::{sentence, CheckMeta, Evidence, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};
use vhdlint_guest::config::cmdline::{Cmdline, Console, EarlyTarget, Param, TTYS0_BASE};
use vhdlint_guest::limits::MAX_CMDLINE_CONSOLES;

pub static META: CheckMeta = CheckMeta {
    id: "linux/kernel-cmdline",
    title: "Kernel boot line",
    what: "Finds the default boot entry's command line the way GRUB would (grub.cfg `set default` with grubenv's saved_entry, submenus, BLS entries in /boot/loader/entries with grubenv `kernelopts`), and /etc/default/grub's GRUB_CMDLINE_LINUX(_DEFAULT), and reads the line as the kernel does (whitespace outside double quotes, name=value at the first =, -/_ alike in names, nothing after a bare --, the first 2048 bytes). console=ttyS0 (ttyAMA0 on Arm) among the consoles the kernel registers is required, with any options (console=ttyS0,115200n8). earlyprintk writing to ttyS0 (earlyprintk=ttyS0,115200, earlyprintk=serial,ttyS0,115200, earlyprintk=serial; x86 uses the first earlyprintk=) are required by the guide (fail), and a rootdelay= is read as a number (the last one counts): under the guide one shorter than 300 seconds warns, as its Certification Test Tool did, while a line without any passes with a note, since most of Microsoft's per-distribution preparation lines leave it out; the current policy asks for neither and notes that a rootdelay delays every boot, and, as LISA's verify_serial_console_is_enabled, wants the console of the image's architecture (from the ELF header of /sbin/init: ttyS0 on x86-64, ttyAMA0 on AArch64; either when it cannot be read) and, as its verify_grub, numa=off on Red Hat family releases before 6.6 (from os-release or /etc/redhat-release); libata.atapi_enabled=0 (the last value) and a reserve= covering I/O port 0x1f0 fail; grub.cfg and /etc/default/grub disagreeing on these warns.",
    why: "Azure's serial console and boot diagnostics read the kernel's console on ttyS0; without it a VM that fails to boot cannot be diagnosed. rootdelay gives Azure's storage time to attach; the two libata options break the DVD drive used for provisioning.",
    remedy: "Add console=ttyS0 (console=ttyAMA0 on Arm64) to GRUB_CMDLINE_LINUX in /etc/default/grub, and earlyprintk=ttyS0 for the guide policy; remove libata.atapi_enabled=0 and reserve=0x1f0,0x8; then regenerate grub.cfg (update-grub, or grub2-mkconfig -o /boot/grub2/grub.cfg; on BLS systems grubby --update-kernel=ALL --args=... / --remove-args=...). Do not add rootdelay=300: neither policy asks for it (the certification FAQ dropped it) and it delays every boot by five minutes; a rootdelay you keep should be at least 300 under the guide.",
    sources: &["Azure Marketplace VM image guide: kernel boot line console=ttyS0 earlyprintk=ttyS0 rootdelay=300", "Azure docs, create-upload-generic: libata.atapi_enabled=0 reserve=0x1f0,0x8 must be removed", "Marketplace certification FAQ: rootdelay=300 no longer required (2021)", "LISA AzureImageStandard.verify_serial_console_is_enabled", "LISA AzureImageStandard.verify_grub"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the serial console arguments the result lacks are
/// added to GRUB_CMDLINE_LINUX in /etc/default/grub, and the boot entries regenerated the way
/// the distribution does (grubby on BLS systems, update-grub, grub2-mkconfig or grub-mkconfig
/// into the grub.cfg the check read); a root without any of those tools has the `linux` lines
/// of that grub.cfg edited in place. libata.atapi_enabled=0 and reserve= are left to the remedy.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let tokens: Vec<&str> = r.actual.split_whitespace().collect();
    let has = |prefix: &str| tokens.iter().any(|t| t.starts_with(prefix));
    let mut args: Vec<(&str, &str)> = Vec::new();
    if !has("console=ttyS0") && !has("console=ttyAMA0") {
        args.push(("console=ttyS0", "console=ttyS0,115200n8"));
    }
    if r.required.contains("earlyprintk") && !has("earlyprintk=") {
        args.push(("earlyprintk=", "earlyprintk=ttyS0,115200"));
    }
    if args.is_empty() {
        return None;
    }
    let cfg = r
        .evidence
        .iter()
        .filter_map(|e| e.path.as_deref())
        .find(|p| p.starts_with('/') && p.ends_with("/grub.cfg"))
        .map(sh_quote)
        .unwrap_or_else(|| "\"$(if [ -f /boot/grub2/grub.cfg ]; then echo /boot/grub2/grub.cfg; else echo /boot/grub/grub.cfg; fi)\"".into());
    // A file of /etc/default/grub.d that sets GRUB_CMDLINE_LINUX (Ubuntu's cloud images ship
    // one) is read after /etc/default/grub and would drop what is added there: then the
    // arguments go into a drop-in read last.
    let mut sh = format!("cfg={cfg}\nf=/etc/default/grub\nregen=0\ndropin=/etc/default/grub.d/99-vhdlint-kernel-cmdline.cfg\noverridden=0\nif ls /etc/default/grub.d/*.cfg 2>/dev/null | grep -v \"$dropin\" | xargs -r grep -lE '^[[:space:]]*(export[[:space:]]+)?GRUB_CMDLINE_LINUX=' | grep -q .; then overridden=1; fi\n");
    for (key, arg) in &args {
        sh.push_str(&format!(
            "if [ \"$overridden\" = 1 ]; then\n    if ! grep -qs '{key}' \"$dropin\"; then\n        printf '%s\\n' 'GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX {arg}\"' >>\"$dropin\"\n        say \"added {arg} to GRUB_CMDLINE_LINUX in $dropin (a file of /etc/default/grub.d sets it after /etc/default/grub)\"\n    fi\nelif [ -f \"$f\" ]; then\n    grep -q '^GRUB_CMDLINE_LINUX=' \"$f\" || echo 'GRUB_CMDLINE_LINUX=\"\"' >>\"$f\"\n    if ! grep -E '^GRUB_CMDLINE_LINUX(_DEFAULT)?=' \"$f\" | grep -q '{key}'; then\n        sed -i 's/^\\(GRUB_CMDLINE_LINUX=\"[^\"]*\\)\"/\\1 {arg}\"/; s/^GRUB_CMDLINE_LINUX=\" /GRUB_CMDLINE_LINUX=\"/' \"$f\"\n        say \"added {arg} to GRUB_CMDLINE_LINUX in $f\"\n    fi\nfi\nif [ -f \"$cfg\" ] && grep -E '^[[:space:]]*linux(efi|16)?[[:space:]]' \"$cfg\" | grep -vq '{key}'; then regen=1; fi\nif [ -d /boot/loader/entries ] && grep -l '^options' /boot/loader/entries/*.conf 2>/dev/null | xargs -r grep -L '{key}' | grep -q .; then regen=1; fi\n"
        ));
    }
    let mut direct = String::new();
    let mut bls = String::new();
    let mut kernel_cmdline = String::new();
    let mut grubby = String::new();
    for (key, arg) in &args {
        direct.push_str(&format!(
            "            sed -i '/^[[:space:]]*linux\\(efi\\|16\\)\\{{0,1\\}}[[:space:]]/{{/{key}/!s/$/ {arg}/}}' \"$cfg\"\n"
        ));
        bls.push_str(&format!(
            "                sed -i '/^options[[:space:]]/{{/{key}/!s/$/ {arg}/}}' \"$e\"\n"
        ));
        kernel_cmdline.push_str(&format!(
            "            sed -i '/{key}/!s/$/ {arg}/' /etc/kernel/cmdline\n"
        ));
        grubby.push_str(&format!(" {arg}"));
    }
    sh.push_str(&format!(
        "if [ \"$regen\" = 1 ]; then\n    if command -v grubby >/dev/null 2>&1 && [ -d /boot/loader/entries ]; then\n        grubby --update-kernel=ALL --args='{}'; say 'updated every boot entry with grubby'\n    elif command -v update-grub >/dev/null 2>&1; then\n        update-grub; say 'ran update-grub'\n    elif command -v grub2-mkconfig >/dev/null 2>&1; then\n        grub2-mkconfig -o \"$cfg\"; say \"ran grub2-mkconfig -o $cfg\"\n    elif command -v grub-mkconfig >/dev/null 2>&1; then\n        grub-mkconfig -o \"$cfg\"; say \"ran grub-mkconfig -o $cfg\"\n    else\n        if [ -f \"$cfg\" ]; then\n{direct}        fi\n        if [ -d /boot/loader/entries ]; then\n            for e in /boot/loader/entries/*.conf; do\n                [ -f \"$e\" ] || continue\n{bls}            done\n        fi\n        if [ -f /etc/kernel/cmdline ]; then\n{kernel_cmdline}        fi\n        say \"no grubby or grub-mkconfig in this root: added the arguments to the boot entries themselves ($cfg linux lines, /boot/loader/entries options, /etc/kernel/cmdline)\"\n    fi\nfi\n",
        grubby.trim()
    ));
    Some(crate::fix::Block {
        changes: format!(
            "adds {} to the kernel command line (/etc/default/grub) and regenerates the boot entries",
            args.iter().map(|(_, a)| *a).collect::<Vec<_>>().join(" ")
        ),
        sh,
    })
}

/// The thresholds of this check: the `["linux/kernel-cmdline"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What a boot line without an early console on ttyS0 gets ("accept": not asked for).
    #[serde(with = "crate::policy::accept_is_none")]
    pub missing_earlyprintk: Option<Level>,
    /// What a boot line without any rootdelay= gets ("accept": not asked for).
    #[serde(with = "crate::policy::accept_is_none")]
    pub missing_rootdelay: Option<Level>,
    /// What a rootdelay= under 300 seconds, or not a number, gets ("accept": not asked for).
    /// With neither rootdelay key asked for, a line that has one gets a note that it delays
    /// every boot.
    #[serde(with = "crate::policy::accept_is_none")]
    pub short_rootdelay: Option<Level>,
    /// Whether the serial console must be the one of the image's architecture, as LISA's
    /// verify_serial_console_is_enabled asks (ttyS0 on x86-64, ttyAMA0 on AArch64); when
    /// false, either serial console does.
    pub console_per_architecture: bool,
    /// Whether Red Hat family releases before 6.6 must boot with numa=off, as LISA's
    /// verify_grub asks.
    pub rhel_numa_off: bool,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        // The guide's own line has console, earlyprintk and rootdelay=300. Most of Microsoft's
        // per-distribution preparation lines (RHEL, Oracle Linux, SLES, openSUSE, Debian) leave
        // rootdelay out, and every one of them must pass: a missing rootdelay passes with a
        // note. A rootdelay that is there but shorter than the guide's is a choice against
        // the guide: a warning, as its Certification Test Tool gave.
        Thresholds {
            missing_earlyprintk: Some(Level::Fail),
            missing_rootdelay: None,
            short_rootdelay: Some(Level::Warning),
            console_per_architecture: false,
            rhel_numa_off: false,
        }
    }

    pub fn current() -> Thresholds {
        // Today's certification asks for neither: the FAQ dropped rootdelay=300 and LISA
        // checks only the console, that of the VM's architecture.
        Thresholds {
            missing_earlyprintk: None,
            missing_rootdelay: None,
            short_rootdelay: None,
            console_per_architecture: true,
            rhel_numa_off: true,
        }
    }
}

/// The root delay the guide asks for, in seconds. A longer delay is accepted: the guide asks
/// for it to give the OS disk "adequate timeout", and a longer one gives at least as much.
pub const ROOTDELAY_SECONDS: u64 = 300;

/// The primary ATA controller's first I/O port: a `reserve=` covering it hides the DVD drive
/// that carries the provisioning media.
const ATA_PRIMARY_PORT: u64 = 0x1f0;

/// What the check looks at in one command line, read as the kernel reads it.
struct Reading<'a> {
    /// The serial console among the consoles the kernel registers, if any.
    serial: Option<Console>,
    /// A serial console named past the consoles the kernel registers.
    serial_dropped: Option<Console>,
    earlyprintk: Option<(&'a Param, EarlyTarget)>,
    rootdelay: Option<(&'a Param, Option<u64>)>,
    /// The `libata.atapi_enabled` in effect when it turns ATAPI off.
    atapi_off: Option<&'a Param>,
    /// `reserve=` parameters that cover the primary ATA ports.
    reserve: Vec<&'a Param>,
    /// Every registered console (for the comparison of two lines).
    consoles: Vec<Console>,
}

/// The serial consoles either of which the guide accepts.
const ANY_SERIAL: &[&str] = &["ttyS0", "ttyAMA0"];

/// The serial console wanted: the one of the image's architecture when the policy asks for
/// it and the architecture can be read, else either.
fn wanted_serial(ctx: &Context, view: &vhdlint_guest::view::GuestView) -> &'static [&'static str] {
    if !ctx.policy.linux_kernel_cmdline.console_per_architecture {
        return ANY_SERIAL;
    }
    match super::linux_architecture::image_machine(view) {
        Some((super::linux_architecture::EM_X86_64, _)) => &["ttyS0"],
        Some((super::linux_architecture::EM_AARCH64, _)) => &["ttyAMA0"],
        _ => ANY_SERIAL,
    }
}

/// How the wanted serial console is named in messages.
fn serial_name(wanted: &[&str]) -> &'static str {
    if wanted == ["ttyAMA0"] {
        "ttyAMA0"
    } else {
        "ttyS0"
    }
}

fn read<'a>(c: &'a Cmdline, wanted: &[&str]) -> Reading<'a> {
    let (consoles, dropped) = c.consoles();
    let is_serial = |c: &Console| wanted.contains(&c.device().as_str());
    Reading {
        serial: consoles.iter().find(|c| is_serial(c)).cloned(),
        serial_dropped: dropped.into_iter().find(|c| is_serial(c)),
        earlyprintk: c.earlyprintk(),
        rootdelay: c.rootdelay(),
        atapi_off: c
            .last_number("libata.atapi_enabled")
            .filter(|(_, n)| *n == Some(0))
            .map(|(p, _)| p),
        reserve: c.reserving(ATA_PRIMARY_PORT),
        consoles,
    }
}

/// The release, when the image is of the Red Hat family (as LISA's `Redhat` class: RHEL,
/// CentOS, Oracle, Alma, Rocky, Scientific) and older than 6.6.
fn rhel_before_6_6(view: &vhdlint_guest::view::GuestView) -> Option<String> {
    let os = vhdlint_guest::linux::os_release(view);
    let id = os.id.as_deref()?;
    if !matches!(
        id,
        "rhel" | "centos" | "ol" | "almalinux" | "rocky" | "scientific"
    ) {
        return None;
    }
    let v = os.version_id.as_deref()?;
    let mut parts = v.split('.').map(|p| p.trim().parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    ((major, minor) < (6, 6)).then(|| format!("{id} {v}"))
}

/// The port an early console writes to, in words.
fn port_name(t: &EarlyTarget) -> String {
    match t {
        EarlyTarget::Serial { base: TTYS0_BASE } => "ttyS0".into(),
        EarlyTarget::Serial { base: 0x2f8 } => "ttyS1".into(),
        EarlyTarget::Serial { base } => format!("the serial port at I/O {base:#x}"),
        EarlyTarget::Other(v) => format!("\"{v}\""),
    }
}

impl Reading<'_> {
    /// What the earlyprintk requirement misses, if anything.
    fn earlyprintk_missing(&self) -> Option<String> {
        match &self.earlyprintk {
            None => Some("no earlyprintk=ttyS0".to_string()),
            Some((_, EarlyTarget::Serial { base: TTYS0_BASE })) => None,
            Some((p, t)) => Some(format!(
                "{} writes the early console to {}, not ttyS0",
                p.text(),
                port_name(t)
            )),
        }
    }

    /// What the rootdelay requirement misses when there is no rootdelay= at all.
    fn rootdelay_missing(&self) -> Option<String> {
        match &self.rootdelay {
            None => Some(format!("no rootdelay={ROOTDELAY_SECONDS}")),
            Some(_) => None,
        }
    }

    /// What the rootdelay requirement misses when a rootdelay= is there, if anything.
    fn rootdelay_short(&self) -> Option<String> {
        match &self.rootdelay {
            None => None,
            Some((_, Some(n))) if *n >= ROOTDELAY_SECONDS => None,
            Some((p, Some(n))) => Some(format!(
                "{} waits {n} s for the root device, under {ROOTDELAY_SECONDS}",
                p.text()
            )),
            Some((p, None)) => Some(format!("{} is not a number of seconds", p.text())),
        }
    }

    /// What a comparison of two lines looks at: (meaning, as written), in order.
    fn relevant(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .consoles
            .iter()
            .map(|c| (format!("console={}", c.device()), c.text.clone()))
            .collect();
        if let Some((p, t)) = &self.earlyprintk {
            v.push((format!("earlyprintk={}", port_name(t)), p.text()));
        }
        if let Some((p, n)) = &self.rootdelay {
            let key = n.map_or_else(|| p.text(), |n| format!("rootdelay={n}"));
            v.push((key, p.text()));
        }
        v.extend(self.atapi_off.map(|p| ("atapi-off".to_string(), p.text())));
        v.extend(self.reserve.iter().map(|p| (p.text(), p.text())));
        v
    }
}

/// What is only in `a`, as written in `a` (each once), or `-`.
fn only_in(a: &[(String, String)], b: &[(String, String)]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for (key, text) in a {
        if !b.iter().any(|(k, _)| k == key) && !out.contains(&text.as_str()) {
            out.push(text);
        }
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(" ")
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let k = g.facts.kernel(&g.view);
    let (src, from_default) = match (&k.boot_entry, &k.default_grub) {
        (Some(b), _) => (b, false),
        (None, Some(d)) => (d, true),
        (None, None) => {
            return Outcome::error(format!(
                "no boot loader configuration to read the kernel command line from: {}",
                sentence(&k.notes)
            ))
        }
    };
    let wanted = wanted_serial(ctx, &g.view);
    let serial = serial_name(wanted);
    let r = read(&src.cmdline, wanted);
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    if r.serial.is_none() {
        status = Status::Fail;
        problems.push(match &r.serial_dropped {
            Some(c) => format!(
                "no console={serial}: {} comes after {MAX_CMDLINE_CONSOLES} other consoles, which is all the kernel registers",
                c.text
            ),
            None => format!("no console={serial}"),
        });
    }
    let asked = &ctx.policy.linux_kernel_cmdline;
    for (level, missing) in [
        (asked.missing_earlyprintk, r.earlyprintk_missing()),
        (asked.missing_rootdelay, r.rootdelay_missing()),
        (asked.short_rootdelay, r.rootdelay_short()),
    ] {
        if let (Some(level), Some(missing)) = (level, missing) {
            status = status.max(level.status());
            problems.push(missing);
        }
    }
    // Not asked for, but there: every boot waits for it. Asked for only when there: the
    // guide's own line has it, the distributions' lines leave it out.
    let rootdelay_asked = asked.missing_rootdelay.is_some() || asked.short_rootdelay.is_some();
    let delay_note = match &r.rootdelay {
        Some((p, Some(n))) if !rootdelay_asked && *n > 0 => Some(format!(
            "{} delays every boot by {n} s before the root device is looked for; the {} policy does not ask for it",
            p.text(),
            ctx.policy.name
        )),
        None if asked.missing_rootdelay.is_none() && asked.short_rootdelay.is_some() => {
            Some(format!(
                "no rootdelay={ROOTDELAY_SECONDS}: the guide's own boot line has it, and Microsoft's per-distribution preparation lines (RHEL, Oracle Linux, SLES, openSUSE, Debian) leave it out; the {} policy accepts either",
                ctx.policy.name
            ))
        }
        _ => None,
    };
    if asked.rhel_numa_off {
        if let Some(release) = rhel_before_6_6(&g.view) {
            if !src
                .cmdline
                .all("numa")
                .any(|p| p.value.as_deref() == Some("off"))
            {
                status = Status::Fail;
                problems.push(format!("no numa=off, which {release} (before 6.6) needs"));
            }
        }
    }
    for p in r.atapi_off.into_iter().chain(r.reserve.iter().copied()) {
        status = Status::Fail;
        problems.push(format!("{} must be removed", p.text()));
    }
    let mut ev = vec![Evidence::path(src.path.clone(), src.line, src.text.clone())];
    if from_default {
        status = status.max(Status::Warning);
        problems.push(format!(
            "no grub.cfg or BLS entry found ({}); judged from /etc/default/grub",
            sentence(&k.notes)
        ));
    } else if let Some(d) = &k.default_grub {
        let here = r.relevant();
        let there = read(&d.cmdline, wanted).relevant();
        let (only_cfg, only_default) = (only_in(&here, &there), only_in(&there, &here));
        if only_cfg != "-" || only_default != "-" {
            status = status.max(Status::Warning);
            problems.push(format!(
                "{} and /etc/default/grub disagree (only in the boot entry: {only_cfg}; only in /etc/default/grub: {only_default}): regenerate grub.cfg",
                src.path
            ));
            ev.push(Evidence::path(d.path.clone(), d.line, d.text.clone()));
        }
    }
    let actual = src.args.join(" ");
    let required = format!(
        "console={serial}{}{}{}, no libata.atapi_enabled=0 / reserve=0x1f0,0x8",
        if asked.missing_earlyprintk.is_some() {
            " earlyprintk=ttyS0"
        } else {
            ""
        },
        match (asked.missing_rootdelay, asked.short_rootdelay) {
            (Some(_), _) => " rootdelay=300 (or more)",
            (None, Some(_)) => " (rootdelay=300 or more if set)",
            (None, None) => "",
        },
        if asked.rhel_numa_off && rhel_before_6_6(&g.view).is_some() {
            " numa=off"
        } else {
            ""
        }
    );
    let out = if status == Status::Pass {
        let o = Outcome::pass(actual, required).evidences(ev);
        match delay_note {
            Some(note) => o.message(note),
            None => o,
        }
    } else {
        Outcome::with_status(status, actual, required)
            .message(format!("{}: {}", src.path, problems.join("; ")))
            .evidences(ev)
    };
    let notes = k.notes.clone();
    if from_default {
        // Already said: they are why /etc/default/grub is what was judged.
        return out.evidences(notes.into_iter().map(Evidence::from));
    }
    // With a boot entry found, the notes are what a bound kept from being read (a BLS entry,
    // a line of /etc/default/grub, the end of a line longer than the kernel reads): the entry
    // or the comparison could be wrong.
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::{MAX_CONFIG_BYTES, MAX_KERNEL_CMDLINE_BYTES};

    const CFG: &str = "/boot/grub/grub.cfg";
    const GOOD: &str = "console=ttyS0 earlyprintk=ttyS0 rootdelay=300";

    /// A guest whose default GRUB entry boots with `args` (on line 3 of grub.cfg).
    fn boot(args: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            CFG,
            format!(
                "set default=0\nmenuentry 'Linux' {{\n  linux /boot/vmlinuz-6.1.0 root=/dev/sda1 {args}\n}}\n"
            ),
        );
        fs
    }

    /// `boot(args)` with /etc/default/grub's GRUB_CMDLINE_LINUX set to `default`.
    fn boot_and_default(args: &str, default: &str) -> MemFs {
        let mut fs = boot(args);
        fs.file(
            "/etc/default/grub",
            format!("GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX=\"{default}\"\n"),
        );
        fs
    }

    /// A guest with /etc/default/grub's GRUB_CMDLINE_LINUX set to `default` and no grub.cfg.
    fn default_only(default: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/default/grub",
            format!("GRUB_CMDLINE_LINUX=\"{default}\"\n"),
        );
        fs
    }

    /// How the distribution's tools write the line into the boot configuration.
    #[derive(Clone, Copy)]
    enum Written {
        /// grub-mkconfig's `linux` line in /boot/grub/grub.cfg.
        GrubCfg,
        /// grub2-mkconfig with ENABLE_BLSCFG=true: a BLS entry's `options` (RHEL 8 and later).
        Bls,
    }

    /// The boot lines Microsoft's preparation pages give, each with the page (and section) it
    /// is from, the /etc/default/grub variable it is set in and how it reaches the boot entry.
    const DOCUMENTED: &[(&str, &str, &str, Written)] = &[
        ("Prepare an Ubuntu virtual machine for Azure", "GRUB_CMDLINE_LINUX_DEFAULT", "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300 quiet splash", Written::GrubCfg),
        ("Create and upload an Ubuntu Linux VHD in Azure (earlier revision of the same page)", "GRUB_CMDLINE_LINUX_DEFAULT", "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300", Written::GrubCfg),
        ("Prepare a Debian VHD for Azure (earlier revision, Debian 8-10 steps; the page now builds with FAI)", "GRUB_CMDLINE_LINUX", "console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0,115200", Written::GrubCfg),
        ("Prepare a Red Hat-based virtual machine for Azure: RHEL 7 using Hyper-V Manager", "GRUB_CMDLINE_LINUX", "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0 net.ifnames=0", Written::GrubCfg),
        ("Prepare a Red Hat-based virtual machine for Azure: RHEL 8/9/10 using Hyper-V Manager, KVM or VMware", "GRUB_CMDLINE_LINUX", "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 earlyprintk=ttyS0 net.ifnames=0", Written::Bls),
        ("Prepare a Red Hat-based virtual machine for Azure: RHEL 7 using KVM or VMware", "GRUB_CMDLINE_LINUX", "console=ttyS0 earlyprintk=ttyS0 net.ifnames=0", Written::GrubCfg),
        ("Prepare a Red Hat-based virtual machine for Azure: RHEL 7 and RHEL 8/9/10 using Kickstart", "GRUB_CMDLINE_LINUX", "console=tty1 console=ttyS0 earlyprintk=ttyS0", Written::Bls),
        ("Prepare a Red Hat-based virtual machine for Azure (earlier revision): RHEL 8", "GRUB_CMDLINE_LINUX", "console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300", Written::Bls),
        ("Prepare a Red Hat-based virtual machine for Azure (earlier revision): RHEL 7", "GRUB_CMDLINE_LINUX", "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300 net.ifnames=0", Written::GrubCfg),
        ("Prepare an Oracle Linux virtual machine for Azure: Oracle Linux 7.0 and later", "GRUB_CMDLINE_LINUX", "console=ttyS0 earlyprintk=ttyS0 net.ifnames=0", Written::GrubCfg),
        ("Prepare a SLES or openSUSE Leap virtual machine for Azure: SLES", "GRUB_CMDLINE_LINUX_DEFAULT", "audit=1 no-scroll fbcon=scrollback:0 mitigations=auto security=apparmor crashkernel=228M,high crashkernel=72M,low console=ttyS0 earlyprintk=ttyS0", Written::GrubCfg),
        ("Prepare a SLES or openSUSE Leap virtual machine for Azure: openSUSE 15.4+ (also Oracle Linux 6)", "GRUB_CMDLINE_LINUX_DEFAULT", "console=ttyS0 earlyprintk=ttyS0", Written::GrubCfg),
        ("Azure Marketplace VM image guide, 2.5 Add required Kernel Boot line parameters", "GRUB_CMDLINE_LINUX", "console=ttyS0 earlyprintk=ttyS0 rootdelay=300", Written::GrubCfg),
    ];

    /// A guest where `line` was set in /etc/default/grub's `var` and written into the boot
    /// entry as the distribution's tools write it.
    fn prepared(var: &str, line: &str, how: Written) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/default/grub",
            format!("GRUB_TIMEOUT=10\n{var}=\"{line}\"\n"),
        );
        match how {
            Written::GrubCfg => {
                fs.file(
                    CFG,
                    format!("set default=\"0\"\nmenuentry 'Linux' --class gnu-linux $menuentry_id_option 'gnulinux-simple-1' {{\n\tlinux\t/boot/vmlinuz-6.1.0-13-cloud-amd64 root=UUID=5f8a ro  {line}\n\tinitrd\t/boot/initrd.img-6.1.0-13-cloud-amd64\n}}\n"),
                );
            }
            Written::Bls => {
                fs.file(
                    "/boot/grub2/grub.cfg",
                    "set default=\"${saved_entry}\"\ninsmod blscfg\nblscfg\n",
                )
                .file("/boot/grub2/grubenv", "# GRUB Environment Block\nsaved_entry=8d5f-5.14.0-362.el9.x86_64\n")
                .file(
                    "/boot/loader/entries/8d5f-5.14.0-362.el9.x86_64.conf",
                    format!("title Red Hat Enterprise Linux (5.14.0-362.el9.x86_64) 9.3 (Plow)\nversion 5.14.0-362.el9.x86_64\nlinux /vmlinuz-5.14.0-362.el9.x86_64\ninitrd /initramfs-5.14.0-362.el9.x86_64.img $tuned_initrd\noptions root=UUID=aa ro {line}\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class rhel\n"),
                );
            }
        }
        fs
    }

    #[test]
    fn microsofts_documented_boot_lines_are_read_right_under_both_policies() {
        for &(page, var, line, how) in DOCUMENTED {
            // The kernel gets a serial console and an early console on ttyS0 from every one;
            // most leave out rootdelay=300, which only the guide's own line (and Ubuntu's)
            // keeps. Every one passes under both policies; under the guide, one without
            // rootdelay says so in a note.
            let has_rootdelay = line.split(' ').any(|w| w == "rootdelay=300");
            for policy in [Policy::guide(), Policy::current()] {
                let o = run_linux_with(prepared(var, line, how), &policy, run);
                let s = said(&o);
                assert_eq!(
                    o.status,
                    Status::Pass,
                    "{page} ({}): {line}: {s}",
                    policy.name
                );
                if !has_rootdelay && policy.name == "guide" {
                    assert!(
                        o.message
                            .starts_with("no rootdelay=300: the guide's own boot line has it"),
                        "{page} ({}): {s}",
                        policy.name
                    );
                }
                assert!(o.actual.ends_with(line), "{page}: {s}");
            }
        }
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_boot_loader_configuration() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(
            o.message
                .starts_with("no boot loader configuration to read the kernel command line from: "),
            "{s}"
        );
        assert!(o.message.contains("no /boot/grub/grub.cfg"), "{s}");
    }

    #[test]
    fn passes_with_the_required_line() {
        let o = run_linux(boot(GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, format!("root=/dev/sda1 {GOOD}"));
        assert!(
            s.contains(&format!(
                "{CFG}:3 linux /boot/vmlinuz-6.1.0 root=/dev/sda1 {GOOD}"
            )),
            "{s}"
        );
        assert_eq!(o.evidence.len(), 1, "{s}");
    }

    #[test]
    fn passes_with_each_serial_console() {
        for console in [
            "console=ttyS0,115200n8",
            "console=ttyAMA0",
            "console=ttyAMA0,115200",
        ] {
            let o = run_linux(
                boot(&format!(
                    "console=tty1 {console} earlyprintk=ttyS0 rootdelay=300"
                )),
                run,
            );
            assert_eq!(o.status, Status::Pass, "{console}: {}", said(&o));
        }
    }

    #[test]
    fn fails_without_a_serial_console() {
        for console in ["console=tty1", "console=ttyS01", "console=ttyS1,115200"] {
            let o = run_linux_with(
                boot(&format!("{console} earlyprintk=ttyS0 rootdelay=300")),
                &Policy::current(),
                run,
            );
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{console}: {s}");
            assert_eq!(o.message, format!("{CFG}: no console=ttyS0"));
        }
    }

    #[test]
    fn fails_in_guide_without_earlyprintk() {
        let o = run_linux(boot("console=ttyS0 rootdelay=300"), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no earlyprintk=ttyS0"));
    }

    #[test]
    fn passes_in_guide_without_rootdelay_with_a_note() {
        let o = run_linux(boot("console=ttyS0 earlyprintk=ttyS0"), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.message,
            "no rootdelay=300: the guide's own boot line has it, and Microsoft's per-distribution preparation lines (RHEL, Oracle Linux, SLES, openSUSE, Debian) leave it out; the guide policy accepts either"
        );
        assert_eq!(
            o.required,
            "console=ttyS0 earlyprintk=ttyS0 (rootdelay=300 or more if set), no libata.atapi_enabled=0 / reserve=0x1f0,0x8"
        );
    }

    #[test]
    fn warns_in_guide_on_a_shorter_rootdelay_and_reads_the_last_one() {
        for (line, written) in [
            ("rootdelay=30", "rootdelay=30"),
            ("rootdelay=300 rootdelay=299", "rootdelay=299"),
            ("rootdelay=0x12b", "rootdelay=0x12b"),
        ] {
            let o = run_linux(
                boot(&format!("console=ttyS0 earlyprintk=ttyS0 {line}")),
                run,
            );
            assert_eq!(o.status, Status::Warning, "{line}: {}", said(&o));
            assert!(
                o.message.ends_with(&format!(
                    "{written} waits {} s for the root device, under 300",
                    if written.ends_with("0x12b") {
                        299
                    } else {
                        written
                            .trim_start_matches("rootdelay=")
                            .parse::<u64>()
                            .unwrap()
                    }
                )),
                "{line}: {}",
                said(&o)
            );
        }
    }

    #[test]
    fn a_rootdelay_that_is_not_a_number_is_not_a_delay() {
        let o = run_linux(boot("console=ttyS0 earlyprintk=ttyS0 rootdelay=five"), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("{CFG}: rootdelay=five is not a number of seconds")
        );
    }

    #[test]
    fn passes_with_rootdelay_of_300_or_more_as_the_kernel_reads_it() {
        for line in [
            "rootdelay=300",
            "rootdelay=600",
            "rootdelay=0x12c",
            "rootdelay=0454",
            "rootdelay=30 rootdelay=300",
            "root-delay=300",
        ] {
            let o = run_linux(
                boot(&format!("console=ttyS0 earlyprintk=ttyS0 {line}")),
                run,
            );
            assert_eq!(o.status, Status::Pass, "{line}: {}", said(&o));
            // `root-delay` is the same name to the kernel only when spelt so in the setup
            // string: rootdelay has no `-` or `_`, so `root-delay` is another parameter and
            // the line has no rootdelay at all.
            assert_eq!(
                o.message.starts_with("no rootdelay=300"),
                line == "root-delay=300",
                "{line}: {}",
                said(&o)
            );
        }
    }

    #[test]
    fn earlyprintk_is_read_as_the_kernel_reads_it() {
        for line in [
            "earlyprintk=ttyS0,115200",
            "earlyprintk=serial,ttyS0,115200",
            "earlyprintk=serial",
            "earlyprintk=serial,0x3f8,115200",
            "earlyprintk=ttyS0,115200 earlyprintk=vga",
        ] {
            let o = run_linux(boot(&format!("console=ttyS0 {line} rootdelay=300")), run);
            assert_eq!(o.status, Status::Pass, "{line}: {}", said(&o));
        }
        for (line, said_) in [
            (
                "earlyprintk=ttyS1",
                "earlyprintk=ttyS1 writes the early console to ttyS1, not ttyS0",
            ),
            (
                "earlyprintk=vga earlyprintk=ttyS0",
                "earlyprintk=vga writes the early console to \"vga\", not ttyS0",
            ),
            (
                "earlyprintk=serial,0x2e8",
                "earlyprintk=serial,0x2e8 writes the early console to the serial port at I/O 0x2e8, not ttyS0",
            ),
        ] {
            let o = run_linux(boot(&format!("console=ttyS0 {line} rootdelay=300")), run);
            assert_eq!(o.status, Status::Fail, "{line}: {}", said(&o));
            assert_eq!(o.message, format!("{CFG}: {said_}"));
        }
    }

    #[test]
    fn a_serial_console_past_the_kernels_consoles_is_not_registered() {
        let ttys: Vec<String> = (1..=8).map(|i| format!("console=tty{i}")).collect();
        let o = run_linux(
            boot(&format!(
                "{} console=ttyS0,115200 earlyprintk=ttyS0 rootdelay=300",
                ttys.join(" ")
            )),
            run,
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("{CFG}: no console=ttyS0: console=ttyS0,115200 comes after 8 other consoles, which is all the kernel registers")
        );
    }

    #[test]
    fn parameters_after_a_double_dash_are_not_the_kernels() {
        let o = run_linux(
            boot("earlyprintk=ttyS0 rootdelay=300 -- console=ttyS0"),
            run,
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no console=ttyS0"));
    }

    #[test]
    fn a_quoted_console_is_read_without_its_quotes() {
        let o = run_linux(
            boot("\"console=ttyS0,115200n8\" earlyprintk=\"ttyS0,115200\" rootdelay=300"),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            "root=/dev/sda1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300"
        );
    }

    #[test]
    fn a_line_longer_than_the_kernel_reads_is_not_a_clean_pass() {
        let filler = format!("x={}", "a".repeat(MAX_KERNEL_CMDLINE_BYTES));
        // The required parameters come first: read, but the rest was cut.
        let o = run_linux(boot(&format!("{GOOD} {filler}")), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.contains("longer than 2048 bytes")),
            "{}",
            said(&o)
        );
        // After the filler, the console is not read at all.
        let o = run_linux(boot(&format!("{filler} {GOOD}")), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("no console=ttyS0"), "{}", said(&o));
    }

    #[test]
    fn current_asks_for_neither_earlyprintk_nor_rootdelay() {
        let o = run_linux_with(boot("console=ttyS0"), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.message, "");
        assert_eq!(
            o.required,
            "console=ttyS0, no libata.atapi_enabled=0 / reserve=0x1f0,0x8"
        );
        // The guide asks for earlyprintk, and for a rootdelay of 300 if there is one.
        let o = run_linux(boot("console=ttyS0"), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.required,
            "console=ttyS0 earlyprintk=ttyS0 (rootdelay=300 or more if set), no libata.atapi_enabled=0 / reserve=0x1f0,0x8"
        );
        // A policy that asks for rootdelay whether or not there is one says so.
        let mut p = Policy::guide();
        p.linux_kernel_cmdline.missing_rootdelay = Some(crate::policy::Level::Warning);
        let o = run_linux_with(boot("console=ttyS0"), &p, run);
        assert_eq!(
            o.required,
            "console=ttyS0 earlyprintk=ttyS0 rootdelay=300 (or more), no libata.atapi_enabled=0 / reserve=0x1f0,0x8"
        );
    }

    /// `boot(args)` on an image whose /sbin/init is a 64-bit ELF for `machine`.
    fn boot_on(machine: u16, args: &str) -> MemFs {
        let mut fs = boot(args);
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        fs.file("/sbin/init", h);
        fs
    }

    #[test]
    fn current_wants_the_console_of_the_images_architecture() {
        // LISA's verify_serial_console_is_enabled: ttyAMA0 on Arm64, ttyS0 on x86-64.
        for (machine, args, fails_with) in [
            (0xB7, "console=ttyS0,115200", Some("ttyAMA0")),
            (0xB7, "console=tty1 console=ttyAMA0", None),
            (0x3E, "console=ttyAMA0", Some("ttyS0")),
            (0x3E, "console=ttyS0", None),
        ] {
            let o = run_linux_with(boot_on(machine, args), &Policy::current(), run);
            let s = said(&o);
            match fails_with {
                Some(dev) => {
                    assert_eq!(o.status, Status::Fail, "{args}: {s}");
                    assert_eq!(o.message, format!("{CFG}: no console={dev}"), "{s}");
                    assert!(o.required.starts_with(&format!("console={dev},")), "{s}");
                }
                None => assert_eq!(o.status, Status::Pass, "{args}: {s}"),
            }
            // The guide takes either serial console, as it always has.
            let o = run_linux(boot_on(machine, &format!("{args} earlyprintk=ttyS0")), run);
            assert_eq!(o.status, Status::Pass, "guide {args}: {}", said(&o));
        }
        // An architecture that cannot be read: either console.
        let o = run_linux_with(boot("console=ttyAMA0"), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_wants_numa_off_on_red_hat_before_6_6() {
        for (release, args, fails) in [
            ("CentOS release 6.5 (Final)", "console=ttyS0", true),
            (
                "CentOS release 6.5 (Final)",
                "console=ttyS0 numa=off",
                false,
            ),
            (
                "Red Hat Enterprise Linux Server release 6.6 (Santiago)",
                "console=ttyS0",
                false,
            ),
        ] {
            let mut fs = boot(args);
            fs.file("/etc/redhat-release", format!("{release}\n"));
            let o = run_linux_with(fs.clone(), &Policy::current(), run);
            let s = said(&o);
            assert_eq!(o.status == Status::Fail, fails, "{release} {args}: {s}");
            if fails {
                assert_eq!(
                    o.message,
                    format!("{CFG}: no numa=off, which centos 6.5 (before 6.6) needs")
                );
            }
            // Not a guide requirement.
            let o = run_linux(boot(&format!("{args} earlyprintk=ttyS0")), run);
            assert_eq!(o.status, Status::Pass, "{}", said(&o));
        }
    }

    #[test]
    fn the_remedy_does_not_ask_for_rootdelay() {
        let r = super::META.remedy;
        assert!(
            !r.contains("console=ttyS0 earlyprintk=ttyS0 rootdelay=300"),
            "{r}"
        );
        assert!(r.contains("Do not add rootdelay=300"), "{r}");
        assert!(super::META
            .sources
            .contains(&"LISA AzureImageStandard.verify_serial_console_is_enabled"),);
    }

    #[test]
    fn current_notes_that_a_rootdelay_delays_every_boot() {
        let o = run_linux_with(boot("console=ttyS0 rootdelay=300"), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.message,
            "rootdelay=300 delays every boot by 300 s before the root device is looked for; the current policy does not ask for it"
        );
        // Not under the guide, which asks for it; not for a delay of 0 or one that is no number.
        let o = run_linux(boot("console=ttyS0 earlyprintk=ttyS0 rootdelay=300"), run);
        assert_eq!((o.status, o.message.as_str()), (Status::Pass, ""));
        for line in ["console=ttyS0 rootdelay=0", "console=ttyS0 rootdelay=five"] {
            let o = run_linux_with(boot(line), &Policy::current(), run);
            assert_eq!((o.status, o.message.as_str()), (Status::Pass, ""), "{line}");
        }
    }

    #[test]
    fn a_policy_file_can_ask_for_each_extra_at_its_own_level() {
        let mut p = Policy::current();
        p.linux_kernel_cmdline.missing_rootdelay = Some(crate::policy::Level::Fail);
        let o = run_linux_with(boot("console=ttyS0"), &p, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no rootdelay=300"));
        let mut p = Policy::guide();
        p.linux_kernel_cmdline.missing_earlyprintk = Some(crate::policy::Level::Warning);
        let o = run_linux(boot("console=ttyS0 rootdelay=300"), run);
        assert_eq!(o.status, Status::Fail);
        let o = run_linux_with(boot("console=ttyS0 rootdelay=300"), &p, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn a_missing_console_fails_in_both_policies() {
        let o = run_linux_with(boot("quiet"), &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no console=ttyS0"));
        let o = run_linux(boot("quiet"), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("{CFG}: no console=ttyS0; no earlyprintk=ttyS0")
        );
    }

    #[test]
    fn forbidden_options_are_read_as_the_kernel_reads_them() {
        // The last libata.atapi_enabled counts; -/_ alike; numbers as the kernel reads them.
        for (line, fails) in [
            ("libata.atapi_enabled=0 libata.atapi_enabled=1", false),
            ("libata.atapi_enabled=1 libata.atapi-enabled=0x0", true),
            ("reserve=0x1f0,8", true),
            ("reserve=496,0x8", true),
            ("reserve=0x170,8,0x1f0,8", true),
            ("reserve=0x1f8,8", false),
            ("reserve=0x1f0", false),
        ] {
            let o = run_linux(boot(&format!("{GOOD} {line}")), run);
            let want = if fails { Status::Fail } else { Status::Pass };
            assert_eq!(o.status, want, "{line}: {}", said(&o));
            if fails {
                assert!(
                    o.message.ends_with(" must be removed"),
                    "{line}: {}",
                    said(&o)
                );
            }
        }
    }

    #[test]
    fn fails_on_each_forbidden_option_in_either_policy() {
        for f in ["libata.atapi_enabled=0", "reserve=0x1f0,0x8"] {
            for policy in [Policy::guide(), Policy::current()] {
                let o = run_linux_with(boot(&format!("{GOOD} {f}")), &policy, run);
                let s = said(&o);
                assert_eq!(o.status, Status::Fail, "{f} {}: {s}", policy.name);
                assert_eq!(o.message, format!("{CFG}: {f} must be removed"));
            }
        }
    }

    #[test]
    fn warns_when_judged_from_default_grub() {
        let o = run_linux(default_only(GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, GOOD);
        assert_eq!(
            o.message,
            "/etc/default/grub: no grub.cfg or BLS entry found (no /boot/grub/grub.cfg, /boot/grub2/grub.cfg or /boot/loader/entries/*.conf); judged from /etc/default/grub"
        );
        assert!(
            s.contains(&format!(
                "/etc/default/grub:1 GRUB_CMDLINE_LINUX=\"{GOOD}\""
            )),
            "{s}"
        );
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.is_none() && e.text.contains("no /boot/grub/grub.cfg")),
            "{s}"
        );
    }

    #[test]
    fn fails_when_judged_from_a_default_grub_without_console() {
        let o = run_linux(default_only("earlyprintk=ttyS0 rootdelay=300"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .starts_with("/etc/default/grub: no console=ttyS0; no grub.cfg or BLS entry found"),
            "{s}"
        );
    }

    #[test]
    fn passes_when_grub_cfg_and_default_grub_agree() {
        // Arguments that do not matter here may differ.
        let o = run_linux(
            boot_and_default(&format!("{GOOD} quiet"), &format!("splash {GOOD}")),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.evidence.len(), 1, "{s}");
    }

    #[test]
    fn warns_when_a_console_is_only_in_the_boot_entry() {
        let o = run_linux(
            boot_and_default(&format!("{GOOD} console=tty1 console=tty1"), GOOD),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            format!("{CFG}: {CFG} and /etc/default/grub disagree (only in the boot entry: console=tty1; only in /etc/default/grub: -): regenerate grub.cfg")
        );
        assert!(
            s.contains(&format!(
                "/etc/default/grub:2 GRUB_CMDLINE_LINUX=\"{GOOD}\""
            )),
            "{s}"
        );
        assert_eq!(o.evidence.len(), 2, "{s}");
    }

    #[test]
    fn warns_when_a_wanted_option_is_only_in_default_grub() {
        let o = run_linux_with(
            boot_and_default("console=ttyS0 earlyprintk=ttyS0", GOOD),
            &Policy::current(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("(only in the boot entry: -; only in /etc/default/grub: rootdelay=300)"),
            "{s}"
        );
    }

    #[test]
    fn warns_when_a_forbidden_option_is_only_in_default_grub() {
        let o = run_linux(
            boot_and_default(GOOD, &format!("{GOOD} reserve=0x1f0,0x8 reserve=0x1f0,0x8")),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("only in /etc/default/grub: reserve=0x1f0,0x8)"),
            "{s}"
        );
    }

    #[test]
    fn a_failure_stays_a_failure_when_the_files_disagree() {
        let o = run_linux(boot_and_default("console=ttyS0", GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("no earlyprintk=ttyS0"), "{s}");
        assert!(o.message.contains("disagree"), "{s}");
    }

    #[test]
    fn a_default_grub_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = boot(GOOD);
        fs.repeat("/etc/default/grub", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.contains("/etc/default/grub")),
            "{s}"
        );
    }

    #[test]
    fn error_when_grubenv_cannot_be_read() {
        // Its saved_entry may choose another entry than the first.
        let mut fs = boot(GOOD);
        fs.broken_file(
            "/boot/grub/grubenv",
            vhdlint_guest::fs::FsError::Corrupt("grubenv: bad extent".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("grubenv: bad extent"), "{s}");
    }

    #[test]
    fn names_a_grub_cfg_that_could_not_be_looked_up() {
        let mut fs = MemFs::new();
        fs.link(CFG, "/srv/broken/grub.cfg")
            .broken_dir(
                "/srv/broken",
                vhdlint_guest::fs::FsError::Io("/srv/broken: read error".into()),
            )
            .file(
                "/etc/default/grub",
                format!("GRUB_CMDLINE_LINUX=\"{GOOD}\"\n"),
            );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(s.contains("/srv/broken: read error"), "{s}");
    }
}
