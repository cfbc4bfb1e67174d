use vhdlint_disk::probe::FsKind;
use vhdlint_guest::linux::ROOT_MARKERS;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/os-found",
    title: "Operating system found",
    what: "Looks for the operating system the profile declares: for linux-os, a filesystem holding /etc, /bin (or /usr/bin) and /etc/fstab (or /etc/hosts), the markers libguestfs's inspection uses, with the distribution from /etc/os-release; for windows-os, an NTFS volume.",
    why: "An OS disk without a recognisable operating system (a wrong image, a data disk uploaded as OS disk, a root on a filesystem that cannot be read) fails provisioning; finding it offline also tells which checks can run.",
    remedy: "Upload the OS disk itself (not a data disk or a partition image), with its root filesystem on ext4 or XFS, and declare the matching profile (--profile linux-os | windows-os).",
    sources: &["libguestfs inspection (daemon/inspect_fs.ml): Linux root markers", "Azure Marketplace VM image guide: OS disk"],
    profiles: Profile::OS,
};

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let linux = match ctx.linux() {
        Ok(l) => l,
        Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
    };
    let markers = ROOT_MARKERS.join(", ");
    let ntfs: Vec<&str> = layout
        .volumes
        .iter()
        .filter(|v| matches!(v.probe.kind, FsKind::Ntfs | FsKind::Bitlocker))
        .map(|v| v.id.as_str())
        .collect();
    let candidates: Vec<Evidence> = linux
        .candidates
        .iter()
        .map(|c| {
            Evidence::note(match &c.error {
                Some(e) => format!("{} ({}): not readable: {e}", c.volume, c.filesystem),
                None if c.missing.is_empty() => {
                    format!("{} ({}): all root markers present", c.volume, c.filesystem)
                }
                None => format!(
                    "{} ({}): found {}; missing {}",
                    c.volume,
                    c.filesystem,
                    if c.found.is_empty() {
                        "none".into()
                    } else {
                        c.found.join(", ")
                    },
                    c.missing.join(", ")
                ),
            })
        })
        .collect();
    match ctx.profile {
        Profile::LinuxOs => match &linux.guest {
            Some(g) => {
                let os =
                    g.os.pretty_name
                        .clone()
                        .or_else(|| g.os.id.clone())
                        .unwrap_or_else(|| "distribution unknown (no os-release)".into());
                let mut ev = vec![Evidence::note(format!(
                    "root filesystem on {}",
                    g.root_volume
                ))];
                let root_ext = layout
                    .volumes
                    .iter()
                    .find(|v| v.id == g.root_volume)
                    .and_then(|v| v.probe.ext.as_ref());
                if let Some(e) = root_ext.filter(|e| e.needs_recovery || e.errors || !e.clean) {
                    ev.push(Evidence::note(format!(
                        "the root ext filesystem was not cleanly unmounted{} (its journal is replayed in memory when read)",
                        if e.errors { " and has errors recorded" } else { "" }
                    )));
                }
                if let Some(src) = &g.os.source {
                    ev.push(Evidence {
                        path: Some(src.clone()),
                        line: None,
                        offset: None,
                        text: format!(
                            "ID={} VERSION_ID={}",
                            g.os.id.as_deref().unwrap_or("?"),
                            g.os.version_id.as_deref().unwrap_or("?")
                        ),
                    });
                }
                Outcome::pass(
                    format!("Linux root on {}: {os}", g.root_volume),
                    format!("a Linux root ({markers})"),
                )
                .evidences(ev)
            }
            None => {
                let mut msg = format!("no Linux root filesystem found; looked for {markers}");
                if !ntfs.is_empty() {
                    msg.push_str(&format!(
                        "; the disk holds Windows volumes ({})",
                        ntfs.join(", ")
                    ));
                }
                let actual = if candidates.is_empty() {
                    "no Linux filesystem".to_string()
                } else {
                    format!("{} Linux filesystem(s), none a root", candidates.len())
                };
                Outcome::fail(actual, format!("a Linux root ({markers})"))
                    .message(msg)
                    .evidences(candidates)
                    .evidence(Evidence::note(format!("markers looked for: {markers}")))
            }
        },
        _ => {
            if let Some(g) = &linux.guest {
                return Outcome::fail(
                    format!("a Linux root on {}", g.root_volume),
                    "a Windows system volume",
                )
                .message(format!(
                    "the profile is windows-os but the disk holds a Linux root on {}",
                    g.root_volume
                ))
                .evidences(candidates);
            }
            let w = match ctx.windows() {
                Ok(w) => w,
                Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
            };
            let marker = vhdlint_guest::windows::SYSTEM_MARKER;
            let required = format!("a Windows system volume ({marker})");
            match &w.guest {
                Some(g) => {
                    Outcome::pass(format!("Windows system volume on {}", g.volume), required)
                        .evidence(Evidence::path(
                            "\\Windows\\System32",
                            None,
                            format!("on volume {}", g.volume),
                        ))
                }
                None => {
                    let ev: Vec<Evidence> = w
                        .candidates
                        .iter()
                        .map(|c| {
                            Evidence::note(format!(
                                "{}: {}",
                                c.volume,
                                c.error
                                    .clone()
                                    .unwrap_or_else(|| "NTFS without \\Windows\\System32".into())
                            ))
                        })
                        .collect();
                    let actual = if ntfs.is_empty() {
                        "no NTFS volume".to_string()
                    } else {
                        format!(
                            "{} NTFS/BitLocker volume(s), none a readable system volume",
                            ntfs.len()
                        )
                    };
                    Outcome::fail(actual, required)
                        .message(format!(
                            "no Windows system volume found; looked for {marker}"
                        ))
                        .evidences(ev)
                        .evidence(Evidence::note(format!("markers looked for: {marker}")))
                }
            }
        }
    }
}
