use vhdlint_guest::fs::FileKind;

use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/no-swap",
    title: "No swap at boot",
    what: "Looks for swap that would be activated on the OS disk at boot: `swap` entries in /etc/fstab (partitions or swap files), systemd `.swap` units in /etc/systemd/system, and cloud-init `swap:` settings in /etc/cloud/cloud.cfg and cloud.cfg.d. Swap on the resource disk (waagent's ResourceDisk.EnableSwap=y) is fine.",
    why: "Swap on the OS disk is not allowed: it slows the OS disk down and its contents persist; Azure provides the temporary resource disk for swap.",
    remedy: "Remove swap lines from /etc/fstab and swap units; configure swap on the resource disk (ResourceDisk.EnableSwap=y and ResourceDisk.SwapSizeMB in /etc/waagent.conf, or cloud-init's mounts on the ephemeral disk).",
    sources: &["LISA AzureImageStandard.verify_no_swap_on_osdisk", "Certification Test Tool test 41 \"Swap Partition on OS Disk\"", "Azure docs, create-upload-generic"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the swap lines of /etc/fstab are commented out (not
/// `noauto` ones) and the swap files they named deleted; swap units in /etc/systemd/system are
/// masked. cloud-init's `swap:` settings are left to the remedy (YAML is not edited by sed).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let mut sh = String::new();
    if r.evidence
        .iter()
        .any(|e| e.path.as_deref() == Some("/etc/fstab"))
    {
        sh.push_str("f=/etc/fstab\nawk '$1 !~ /^#/ && $3 == \"swap\" && $4 !~ /(^|,)noauto(,|$)/ { print $1 }' \"$f\" | while IFS= read -r s; do\n    case $s in /*) if [ -f \"$s\" ] && [ ! -L \"$s\" ]; then rm -f -- \"$s\"; say \"deleted the swap file $s\"; fi ;; esac\ndone\nif awk '$1 !~ /^#/ && $3 == \"swap\" && $4 !~ /(^|,)noauto(,|$)/ { found = 1 } END { exit !found }' \"$f\"; then\n    awk '$1 !~ /^#/ && $3 == \"swap\" && $4 !~ /(^|,)noauto(,|$)/ { print \"# \" $0; next } { print }' \"$f\" >\"$f.vhdlint\" && cat \"$f.vhdlint\" >\"$f\" && rm -f \"$f.vhdlint\"\n    say \"commented out the swap lines of $f\"\nfi\n");
    }
    for p in crate::fix::evidence_paths(r)
        .into_iter()
        .filter(|p| p.starts_with("/etc/systemd/system/") && p.ends_with(".swap"))
    {
        sh.push_str(&format!(
            "u={}\nif [ \"$(readlink \"$u\" 2>/dev/null)\" != /dev/null ]; then rm -f -- \"$u\"; ln -s /dev/null \"$u\"; say \"masked $u\"; fi\n",
            sh_quote(&p)
        ));
    }
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "comments out the swap lines of /etc/fstab, deletes the swap files they named and masks swap units (the agent or cloud-init puts swap on the resource disk)".into(),
        sh,
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let v = &g.view;
    let mut ev = Vec::new();
    // What a bound kept from being read: swap configured there would not be seen.
    let mut notes = Vec::new();
    let fstab = g.facts.fstab(v);
    if let Err(e) = &fstab {
        notes.extend(Note::from_fs_error(vhdlint_guest::facts::FSTAB, e));
    }
    if let Ok(fstab) = fstab {
        for e in fstab.swaps() {
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

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    const ROOT: &str = "UUID=1234 / ext4 defaults 0 1\n";

    fn with(path: &str, text: &str) -> Outcome {
        let mut fs = MemFs::new();
        fs.file("/etc/fstab", ROOT).file(path, text);
        run_linux(fs, run)
    }

    fn cloud(text: &str) -> Outcome {
        with("/etc/cloud/cloud.cfg", text)
    }

    fn assert_fails_at(o: &Outcome, at: &str) {
        let s = said(o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "1 swap configuration(s)", "{s}");
        assert!(o.message.contains(at), "{s}");
    }

    fn assert_passes(o: &Outcome) {
        assert_eq!(o.status, Status::Pass, "{}", said(o));
        assert_eq!(o.actual, "no swap at boot");
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_without_any_swap() {
        let mut fs = MemFs::new();
        fs.file("/etc/fstab", ROOT)
            .file("/etc/systemd/system/sshd.service", "")
            .file("/etc/cloud/cloud.cfg", "users: [default]\n");
        assert_passes(&run_linux(fs, run));
    }

    #[test]
    fn passes_on_an_empty_guest() {
        assert_passes(&run_linux(MemFs::new(), run));
    }

    #[test]
    fn fails_on_a_swap_line_in_fstab() {
        let o = with(
            "/etc/fstab",
            "UUID=1234 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n",
        );
        assert_fails_at(&o, "/etc/fstab:2: /swapfile none swap sw 0 0");
    }

    #[test]
    fn passes_on_a_noauto_swap_line() {
        let o = with(
            "/etc/fstab",
            "UUID=1234 / ext4 defaults 0 1\n/swapfile none swap sw,noauto 0 0\n",
        );
        assert_passes(&o);
    }

    #[test]
    fn counts_every_swap_configuration() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/fstab",
            "/dev/sda2 none swap sw 0 0\n/swapfile none swap sw 0 0\n",
        )
        .file("/etc/systemd/system/swapfile.swap", "[Swap]\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "3 swap configuration(s)");
        assert_eq!(
            o.message,
            "/etc/fstab:1: /dev/sda2 none swap sw 0 0; /etc/fstab:2: /swapfile none swap sw 0 0; /etc/systemd/system/swapfile.swap:0: systemd swap unit"
        );
    }

    #[test]
    fn fails_on_a_systemd_swap_unit() {
        let o = with(
            "/etc/systemd/system/dev-sda2.swap",
            "[Swap]\nWhat=/dev/sda2\n",
        );
        assert_fails_at(&o, "/etc/systemd/system/dev-sda2.swap:0: systemd swap unit");
    }

    #[test]
    fn fails_on_a_swap_unit_linked_elsewhere() {
        let mut fs = MemFs::new();
        fs.file("/usr/lib/systemd/system/x.swap", "[Swap]\n").link(
            "/etc/systemd/system/x.swap",
            "/usr/lib/systemd/system/x.swap",
        );
        let o = run_linux(fs, run);
        assert_fails_at(&o, "/etc/systemd/system/x.swap:0: systemd swap unit");
    }

    #[test]
    fn passes_on_a_masked_swap_unit() {
        let mut fs = MemFs::new();
        fs.link("/etc/systemd/system/dev-sda2.swap", "/dev/null");
        assert_passes(&run_linux(fs, run));
    }

    #[test]
    fn passes_on_a_directory_named_like_a_swap_unit() {
        let mut fs = MemFs::new();
        fs.dir("/etc/systemd/system/dev-sda2.swap");
        assert_passes(&run_linux(fs, run));
    }

    #[test]
    fn fails_on_a_cloud_init_swap_file_name() {
        let o = cloud("users: [default]\nswap:\n  filename: /swap.img\n  size: auto\n");
        assert_fails_at(&o, "/etc/cloud/cloud.cfg:2: swap:");
    }

    #[test]
    fn fails_on_a_cloud_init_swap_size_alone() {
        let o = cloud("swap:   \n\tsize: 2G\n");
        assert_fails_at(&o, "/etc/cloud/cloud.cfg:1: swap:");
    }

    #[test]
    fn passes_on_a_cloud_init_swap_without_file_or_size() {
        assert_passes(&cloud("swap:\n  maxsize: 0\nsize: 1\n"));
    }

    #[test]
    fn passes_on_an_empty_cloud_init_swap_mapping() {
        assert_passes(&cloud("swap: {}\n  filename: /x\n"));
        assert_passes(&cloud("swap:    \nusers: []\n"));
    }

    #[test]
    fn fails_on_an_inline_cloud_init_swap_mapping() {
        let o = cloud("swap: {filename: /swap.img, size: auto}\n");
        assert_fails_at(
            &o,
            "/etc/cloud/cloud.cfg:1: swap: {filename: /swap.img, size: auto}",
        );
    }

    #[test]
    fn passes_on_a_nested_swap_key() {
        assert_passes(&cloud("mounts:\n  swap:\n    filename: /swap.img\n"));
    }

    #[test]
    fn fails_on_a_cloud_init_drop_in() {
        let o = with(
            "/etc/cloud/cloud.cfg.d/90-swap.cfg",
            "# swap\nswap:\n  filename: /swap.img\n",
        );
        assert_fails_at(&o, "/etc/cloud/cloud.cfg.d/90-swap.cfg:2: swap:");
    }

    #[test]
    fn a_drop_in_not_named_cfg_is_not_read() {
        let o = with(
            "/etc/cloud/cloud.cfg.d/90-swap.cfg.bak",
            "swap:\n  filename: /swap.img\n",
        );
        assert_passes(&o);
    }

    #[test]
    fn warns_when_fstab_is_over_its_bound() {
        let mut fs = MemFs::new();
        fs.repeat("/etc/fstab", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/etc/fstab")),
            "{}",
            said(&o)
        );
    }
}
