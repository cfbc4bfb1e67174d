use vhdlint_guest::fs::FileKind;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/no-swap",
    title: "No swap at boot",
    what: "Looks for swap that would be activated on the OS disk at boot: `swap` entries in /etc/fstab (partitions or swap files), systemd `.swap` units in /etc/systemd/system, and cloud-init `swap:` settings in /etc/cloud/cloud.cfg and cloud.cfg.d. Swap on the resource disk (waagent's ResourceDisk.EnableSwap=y) is fine.",
    why: "Swap on the OS disk is not allowed: it slows the OS disk down and its contents persist; Azure provides the temporary resource disk for swap.",
    remedy: "Remove swap lines from /etc/fstab and swap units; configure swap on the resource disk (ResourceDisk.EnableSwap=y and ResourceDisk.SwapSizeMB in /etc/waagent.conf, or cloud-init's mounts on the ephemeral disk).",
    sources: &["LISA AzureImageStandard verify_no_swap_on_osdisk", "Certification Test Tool test 41 \"Swap Partition on OS Disk\"", "Azure docs, create-upload-generic"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let v = &g.view;
    let mut ev = Vec::new();
    // What a bound kept from being read: swap configured there would not be seen.
    let mut notes = Vec::new();
    if let Some(text) = v.read_noted("/etc/fstab", &mut notes) {
        for e in vhdlint_guest::config::fstab::parse(&text).swaps() {
            if !e.has_option("noauto") {
                ev.push(Evidence::path("/etc/fstab", Some(e.line), e.text.trim()));
            }
        }
    }
    if let Some(entries) = v.read_dir_noted("/etc/systemd/system", &mut notes) {
        for e in entries
            .iter()
            .filter(|e| e.name.ends_with(".swap") && e.kind != FileKind::Dir)
        {
            let p = format!("/etc/systemd/system/{}", e.name);
            if v.read_link(&p).is_ok_and(|t| t == "/dev/null") {
                continue;
            }
            ev.push(Evidence::path(p, None, "systemd swap unit"));
        }
    }
    let mut cloud = vec!["/etc/cloud/cloud.cfg".to_string()];
    cloud.extend(v.glob_noted("/etc/cloud/cloud.cfg.d/*.cfg", &mut notes));
    for path in cloud {
        let Some(text) = v.read_noted(&path, &mut notes) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.trim_end() == "swap:"
                || (l.starts_with("swap:")
                    && !l.trim_start_matches("swap:").trim().is_empty()
                    && l.trim() != "swap: {}")
            {
                // A top-level swap: mapping with a filename (or size) makes cloud-init create a swap file.
                let body: Vec<&&str> = lines[i + 1..]
                    .iter()
                    .take_while(|b| b.starts_with(' ') || b.starts_with('\t'))
                    .collect();
                if body.iter().any(|b| {
                    b.trim_start().starts_with("filename:") || b.trim_start().starts_with("size:")
                }) || !l.trim_end().ends_with(':')
                {
                    ev.push(Evidence::path(path.clone(), Some(i + 1), l.trim()));
                }
            }
        }
    }
    let required = "no swap activated on the OS disk at boot";
    if ev.is_empty() {
        return Outcome::pass("no swap at boot", required).noted(notes);
    }
    let out = Outcome::fail(format!("{} swap configuration(s)", ev.len()), required)
        .message(
            ev.iter()
                .map(|e| {
                    format!(
                        "{}:{}: {}",
                        e.path.as_deref().unwrap_or(""),
                        e.line.unwrap_or(0),
                        e.text
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidences(ev);
    out.noted(notes)
}
