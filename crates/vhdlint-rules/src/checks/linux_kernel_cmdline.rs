use crate::check::{sentence, CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/kernel-cmdline",
    title: "Kernel boot line",
    what: "Finds the default boot entry's command line the way GRUB would (grub.cfg `set default` with grubenv's saved_entry, submenus, BLS entries in /boot/loader/entries with grubenv `kernelopts`), and /etc/default/grub's GRUB_CMDLINE_LINUX(_DEFAULT). console=ttyS0 (ttyAMA0 on Arm) is required; earlyprintk=ttyS0 and rootdelay=300 are required by the guide (warnings in current); libata.atapi_enabled=0 and reserve=0x1f0,0x8 fail; grub.cfg and /etc/default/grub disagreeing warns.",
    why: "Azure's serial console and boot diagnostics read the kernel's console on ttyS0; without it a VM that fails to boot cannot be diagnosed. rootdelay gives Azure's storage time to attach; the two libata options break the DVD drive used for provisioning.",
    remedy: "Set GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0 rootdelay=300\" in /etc/default/grub and regenerate grub.cfg (update-grub, or grub2-mkconfig -o /boot/grub2/grub.cfg; on BLS systems grubby --update-kernel=ALL --args=...).",
    sources: &["Azure Marketplace VM image guide: kernel boot line console=ttyS0 earlyprintk=ttyS0 rootdelay=300", "Azure docs, create-upload-generic: libata.atapi_enabled=0 reserve=0x1f0,0x8 must be removed", "LISA verify_serial_console_is_enabled"],
    profiles: &[Profile::LinuxOs],
};

const WANTED: &[&str] = &["earlyprintk=ttyS0", "rootdelay=300"];
const FORBIDDEN: &[&str] = &["libata.atapi_enabled=0", "reserve=0x1f0,0x8"];

fn has(args: &[String], a: &str) -> bool {
    args.iter().any(|x| x == a)
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
    let args = &src.args;
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let console = args.iter().any(|a| {
        a == "console=ttyS0"
            || a.starts_with("console=ttyS0,")
            || a == "console=ttyAMA0"
            || a.starts_with("console=ttyAMA0,")
    });
    if !console {
        status = Status::Fail;
        problems.push("no console=ttyS0".to_string());
    }
    for w in WANTED {
        if !has(args, w) {
            status = status.max(ctx.policy.boot_extras.status());
            problems.push(format!("no {w}"));
        }
    }
    for f in FORBIDDEN {
        if has(args, f) {
            status = Status::Fail;
            problems.push(format!("{f} must be removed"));
        }
    }
    let mut ev = vec![Evidence::path(src.path.clone(), src.line, src.text.clone())];
    if from_default {
        status = status.max(Status::Warning);
        problems.push(format!(
            "no grub.cfg or BLS entry found ({}); judged from /etc/default/grub",
            sentence(&k.notes)
        ));
    } else if let Some(d) = &k.default_grub {
        let relevant = |a: &String| {
            a.starts_with("console=")
                || WANTED.contains(&a.as_str())
                || FORBIDDEN.contains(&a.as_str())
        };
        let mut only_cfg: Vec<&String> = args
            .iter()
            .filter(|a| relevant(a) && !d.args.contains(a))
            .collect();
        let mut only_default: Vec<&String> = d
            .args
            .iter()
            .filter(|a| relevant(a) && !args.contains(a))
            .collect();
        only_cfg.dedup();
        only_default.dedup();
        if !only_cfg.is_empty() || !only_default.is_empty() {
            status = status.max(Status::Warning);
            problems.push(format!(
                "{} and /etc/default/grub disagree (only in the boot entry: {}; only in /etc/default/grub: {}): regenerate grub.cfg",
                src.path,
                if only_cfg.is_empty() { "-".into() } else { only_cfg.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ") },
                if only_default.is_empty() { "-".into() } else { only_default.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ") }
            ));
            ev.push(Evidence::path(d.path.clone(), d.line, d.text.clone()));
        }
    }
    let actual = args.join(" ");
    let required = "console=ttyS0 earlyprintk=ttyS0 rootdelay=300, no libata.atapi_enabled=0 / reserve=0x1f0,0x8";
    let out = if status == Status::Pass {
        Outcome::pass(actual, required).evidences(ev)
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
    // a line of /etc/default/grub): the entry or the comparison could be wrong.
    out.noted(notes)
}
