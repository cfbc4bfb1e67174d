//! `vhdlint inspect`: what was decoded, without verdicts.

use anyhow::Result;
use serde::Serialize;
use vhdlint_disk::container::FooterPlace;
use vhdlint_disk::vhd::{DynamicHeader, Footer};
use vhdlint_disk::{Finding, Layout};
use vhdlint_guest::guest::Guest;
use vhdlint_guest::linux::{LinuxGuest, LinuxInspection};

#[derive(Serialize)]
struct Inspection<'a> {
    path: String,
    format: &'static str,
    file_size: u64,
    footer: Option<&'a Footer>,
    footer_place: Option<FooterPlace>,
    footer_copy_at_start: Option<&'a Footer>,
    dynamic_header: Option<&'a DynamicHeader>,
    bat_entries_read: Option<usize>,
    bat_blocks_allocated: Option<usize>,
    container_findings: Vec<&'a Finding>,
    layout: Option<&'a Layout>,
    layout_error: Option<String>,
    os_family: Option<vhdlint_guest::OsFamily>,
    linux: Option<&'a LinuxInspection>,
    kernel: Option<vhdlint_guest::facts::Kernel>,
}

pub fn run(image: &std::ffi::OsStr, json: bool) -> Result<()> {
    let img = crate::open_image(image)?;
    let c = &img.container;
    let (guest, layout_error) = match c.virtual_disk() {
        Ok(d) => (Some(Guest::read(d)), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let i = Inspection {
        path: crate::redact(&img.path.display().to_string()),
        format: c.format.name(),
        file_size: c.file_size,
        footer: c.footer.as_ref(),
        footer_place: c.footer_place,
        footer_copy_at_start: c.start_copy.as_ref(),
        dynamic_header: c.dynamic.as_ref().map(|d| &d.header),
        bat_entries_read: c.dynamic.as_ref().map(|d| d.bat.entries.len()),
        bat_blocks_allocated: c.dynamic.as_ref().map(|d| d.bat.allocated().count()),
        container_findings: c.dynamic.iter().flat_map(|d| &d.findings).collect(),
        os_family: guest.as_ref().and_then(|g| g.os_hint().family),
        linux: guest.as_ref().map(Guest::linux),
        kernel: guest
            .as_ref()
            .and_then(|g| g.linux().guest.as_ref())
            .map(|g| g.facts.kernel(&g.view).clone()),
        layout: guest.as_ref().map(Guest::layout),
        layout_error,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&i)?);
    } else {
        out!("{}", text(&i));
    }
    intact(&img.source)
}

/// An error (exit 2) when reading `src` failed for good or it changed while it was read (a blob
/// replaced, the fetch budget reached): what was shown from it is then incomplete or wrong.
fn intact(src: &vhdlint_disk::SharedSource) -> Result<()> {
    match src.changed() {
        Some(why) => anyhow::bail!("{why}: what was shown of the image is incomplete"),
        None => Ok(()),
    }
}

fn text(i: &Inspection) -> String {
    let mut o = String::new();
    let mut line = |k: &str, v: String| o.push_str(&format!("{k:<23} {v}\n"));
    line("image", i.path.clone());
    line("format", i.format.to_string());
    line("file size", format!("{} bytes", i.file_size));
    if let Some(f) = i.footer {
        line(
            "footer",
            format!(
                "at {:#x} ({:?})",
                f.offset,
                i.footer_place.unwrap_or(FooterPlace::End)
            ),
        );
        line("  cookie", f.cookie.clone());
        line("  features", format!("{:#010x}", f.features));
        line("  format version", format!("{:#010x}", f.format_version));
        line("  data offset", format!("{:#x}", f.data_offset));
        line(
            "  time stamp",
            format!("{} (seconds since 2000-01-01)", f.timestamp),
        );
        line(
            "  creator",
            format!(
                "\"{}\" {} on \"{}\"",
                f.creator_app,
                f.creator_version_text(),
                f.creator_host_os
            ),
        );
        line("  original size", format!("{} bytes", f.original_size));
        line("  current size", format!("{} bytes", f.current_size));
        line(
            "  geometry",
            format!(
                "{} (= {} bytes)",
                f.geometry,
                f.geometry.total_sectors() * 512
            ),
        );
        line("  disk type", f.disk_type.name());
        line(
            "  checksum",
            format!(
                "{:#010x} (computed {:#010x})",
                f.checksum, f.computed_checksum
            ),
        );
        line("  unique id", f.unique_id.to_string());
        line("  saved state", f.saved_state.to_string());
    }
    if let Some(s) = i.footer_copy_at_start {
        line(
            "footer copy at 0",
            if Some(&s.raw) == i.footer.map(|f| &f.raw) {
                "identical".into()
            } else {
                "differs".into()
            },
        );
    }
    if let Some(h) = i.dynamic_header {
        line(
            "dynamic header",
            format!("at {:#x}, cookie \"{}\"", h.offset, h.cookie),
        );
        line("  table offset", format!("{:#x}", h.table_offset));
        line("  max table entries", h.max_table_entries.to_string());
        line("  block size", format!("{} bytes", h.block_size));
        line(
            "  checksum",
            format!(
                "{:#010x} (computed {:#010x})",
                h.checksum, h.computed_checksum
            ),
        );
        if !h.parent_name.is_empty() {
            line(
                "  parent",
                format!("\"{}\" {}", h.parent_name, h.parent_unique_id),
            );
        }
        line(
            "  blocks allocated",
            format!(
                "{} of {}",
                i.bat_blocks_allocated.unwrap_or(0),
                i.bat_entries_read.unwrap_or(0)
            ),
        );
    }
    for f in &i.container_findings {
        line("  defect", f.message.clone());
    }
    if let Some(e) = &i.layout_error {
        line("guest disk", format!("not readable: {e}"));
    }
    if let Some(l) = &i.layout {
        line(
            "partition table",
            format!("{:?}", l.table.scheme).to_lowercase(),
        );
        for p in &l.table.partitions {
            line(
                &format!("  partition {}", p.number),
                format!(
                    "LBA {}..{} ({} sectors) {}{}{}",
                    p.start_lba,
                    p.start_lba + p.sectors.saturating_sub(1),
                    p.sectors,
                    p.type_name,
                    if p.bootable { ", boot" } else { "" },
                    p.name
                        .as_ref()
                        .map_or(String::new(), |n| format!(", \"{n}\""))
                ),
            );
        }
        for f in &l.table.findings {
            line("  defect", f.message.clone());
        }
        for v in &l.volumes {
            line(
                &format!("volume {}", v.id),
                format!(
                    "{} bytes, {}{}{}",
                    v.size,
                    v.probe.kind.name(),
                    v.probe
                        .label
                        .as_ref()
                        .map_or(String::new(), |x| format!(", label \"{x}\"")),
                    v.probe
                        .uuid
                        .as_ref()
                        .map_or(String::new(), |x| format!(", uuid {x}"))
                ),
            );
            if let Some(e) = &v.probe.ext {
                let state = match (e.clean, e.errors, e.needs_recovery) {
                    (_, true, _) => "errors detected",
                    (_, _, true) => "not cleanly unmounted (journal needs recovery)",
                    (true, _, _) => "clean",
                    (false, _, _) => "not clean",
                };
                line(
                    "  ext state",
                    format!(
                        "{state}; mounted {} times; features: {}",
                        e.mount_count,
                        e.features.join(" ")
                    ),
                );
            }
        }
        for vg in &l.volume_groups {
            line(
                &format!("volume group {}", vg.name),
                format!(
                    "extent {} bytes, {} PV(s), seqno {}",
                    vg.extent_size,
                    vg.pvs.len(),
                    vg.seqno
                ),
            );
            for lv in &vg.lvs {
                line(
                    &format!("  lv {}", lv.name),
                    format!(
                        "{} bytes in {} segment(s){}",
                        lv.size,
                        lv.segments.len(),
                        lv.unreadable
                            .as_ref()
                            .map_or(String::new(), |u| format!(" (not read: {u})"))
                    ),
                );
            }
            for f in &vg.findings {
                line("  note", f.message.clone());
            }
        }
        for f in l
            .physical_volumes
            .iter()
            .flat_map(|p| &p.findings)
            .chain(&l.lvm_findings)
        {
            line("  lvm", f.message.clone());
        }
    }
    if let Some(l) = &i.linux {
        for c in &l.candidates {
            let what = match &c.error {
                Some(e) => format!("not readable: {e}"),
                None if c.missing.is_empty() => "Linux root".to_string(),
                None => format!("not a root: missing {}", c.missing.join(", ")),
            };
            line(
                &format!("linux candidate {}", c.volume),
                format!("{what} ({})", c.filesystem),
            );
        }
        if let Some(g) = &l.guest {
            line(
                "linux distribution",
                format!(
                    "{} (from {})",
                    g.os.pretty_name
                        .as_deref()
                        .or(g.os.id.as_deref())
                        .unwrap_or("unknown"),
                    g.os.source.as_deref().unwrap_or("no os-release")
                ),
            );
            for m in &g.mounts {
                line(
                    &format!("  mount {}", m.point),
                    format!("{} ({}), {}", m.volume, m.filesystem, m.reason),
                );
                for n in &m.notes {
                    line("    note", n.clone());
                }
            }
            for n in &g.not_mounted {
                line(
                    &format!("  not mounted {}", n.point),
                    format!("/etc/fstab line {}: {}: {}", n.line, n.spec, n.reason),
                );
            }
        }
    }
    if let Some(k) = &i.kernel {
        if let Some(b) = &k.boot_entry {
            line(
                "default boot entry",
                format!("{}:{} {}", b.path, b.line.unwrap_or(0), b.text),
            );
        }
        if let Some(v) = &k.version {
            line("  kernel", v.clone());
        }
        if let Some(r) = &k.initrd {
            line("  initramfs", r.clone());
        }
        for n in &k.notes {
            line("  note", n.to_string());
        }
    }
    if let Some(f) = i.os_family {
        line(
            "operating system",
            format!("{f:?} (from volume signatures)"),
        );
    }
    o
}

/// Opens the image and reads its guest; also returns the image's bytes, for [`intact`].
fn guest(image: &std::ffi::OsStr) -> Result<(Guest, vhdlint_disk::SharedSource)> {
    let img = crate::open_image(image)?;
    Ok((Guest::read(img.container.virtual_disk()?), img.source))
}

/// The Linux root of `g`, or why there is none.
fn linux_root(g: &Guest) -> Result<&LinuxGuest> {
    g.linux_root().map_err(|looked| {
        anyhow::anyhow!(
            "no Linux root filesystem found{}",
            if looked.is_empty() {
                String::new()
            } else {
                format!(": {}", looked.join("; "))
            }
        )
    })
}

/// `vhdlint cat IMAGE PATH`: exit 1 when the path cannot be read.
pub fn cat(image: &std::ffi::OsStr, path: &str) -> Result<u8> {
    use std::io::Write;
    let (g, src) = guest(image)?;
    // A root not found because reading failed is that failure (exit 2), not "no root".
    let g = match (linux_root(&g), intact(&src)) {
        (_, Err(e)) | (Err(e), _) => return Err(e),
        (Ok(g), Ok(())) => g,
    };
    match g.view.read_upto(path, u64::MAX) {
        Ok(b) => {
            intact(&src)?;
            let _ = std::io::stdout().lock().write_all(&b);
            Ok(0)
        }
        Err(e) => {
            eprintln!("vhdlint: {}", crate::redact(&e.to_string()));
            Ok(1)
        }
    }
}

/// `vhdlint ls IMAGE PATH`: one entry a line, `KIND NAME`; exit 1 when it cannot be listed.
pub fn ls(image: &std::ffi::OsStr, path: &str) -> Result<u8> {
    use vhdlint_guest::fs::FileKind;
    let (g, src) = guest(image)?;
    let g = match (linux_root(&g), intact(&src)) {
        (_, Err(e)) | (Err(e), _) => return Err(e),
        (Ok(g), Ok(())) => g,
    };
    match g.view.read_dir(path) {
        Ok(entries) => {
            intact(&src)?;
            for e in entries {
                let kind = match e.kind {
                    FileKind::File => "file",
                    FileKind::Dir => "dir",
                    FileKind::Symlink => "link",
                    FileKind::Other => "other",
                };
                outln!("{kind} {}", e.name);
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("vhdlint: {}", crate::redact(&e.to_string()));
            Ok(1)
        }
    }
}
