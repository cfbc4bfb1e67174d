use vhdlint_guest::pe_version::{read_file_version, FileVersion, FileVersionError};
use vhdlint_guest::windows::reg_value;

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/patch-level",
    title: "Patched for MS17-010 and the preparation table",
    what: "Reads CurrentBuild (or CurrentBuildNumber), CurrentMajorVersionNumber and UBR from the SOFTWARE hive's Microsoft\\Windows NT\\CurrentVersion, then the file version (the VS_FIXEDFILEINFO of the PE version resource) of \\Windows\\System32\\drivers\\srv.sys and srv2.sys and of the binaries listed for that build in Microsoft's table of minimum file versions (disk.sys, storport.sys, ntfs.sys, tcpip.sys, netvsc.sys, ntoskrnl.exe, termsrv.dll…). A srv.sys or srv2.sys below the MS17-010 minimum of its build fails: 6.1.7601.23689 (2008 R2 SP1), 6.2.9200.22099 (2012), 6.3.9600.18604 (2012 R2), 10.0.14393.953 (2016); 2019 and later have none. A table binary below its minimum warns. A file that is absent is reported (srv.sys is absent where SMB1 is not installed, the default from 2019); a file whose version cannot be read is an error.",
    why: "Certification scans the image for vulnerabilities and rejects an image without the MS17-010 (WannaCry) update; Microsoft's VHD preparation guide lists the minimum versions of the storage, network, kernel and Remote Desktop binaries an image needs to run well on Azure.",
    remedy: "Install the latest cumulative update (Windows Update, or the update history page of the OS) and restart before generalizing; for MS17-010 alone, the KBs of Microsoft security bulletin MS17-010 (KB4012212/KB4012215 for 2008 R2, KB4012213/KB4012216 for 2012 R2, KB4013429 for 2016).",
    sources: &[
        "Azure Marketplace VM certification FAQ (Troubleshoot virtual machine certification): WannaCry vulnerability (MS17-010), the minimum srv.sys/srv2.sys versions",
        "Prepare a Windows VHD or VHDX to upload to Azure: Install Windows updates, the table of minimum binary versions per OS",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "updates come from Windows Update or the update's own package, downloaded and installed with restarts; a script run before sysprep cannot bring them",
);

const CURRENT_VERSION: &str = "Microsoft\\Windows NT\\CurrentVersion";

/// The builds with a column in the preparation table, in its order.
const BUILDS: [u32; 6] = [7601, 9200, 9600, 14393, 15063, 16299];

/// The preparation guide's table of minimum binary versions ("Install Windows updates"), one
/// row per binary: its path under \Windows, then per build of [`BUILDS`] the minimum and the
/// KB that brings it (`-`: none given). Two versions joined by `/` are the GDR and LDR
/// branches of Windows Server 2012 (revision below 20000: GDR).
const TABLE: &str = "\
System32/drivers/disk.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17638/6.2.9200.21757 KB3137061 | 6.3.9600.18203 KB3137061 | - | - | -
System32/drivers/storport.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17188/6.2.9200.21306 KB3018489 | 6.3.9600.18573 KB4022726 | 10.0.14393.1358 KB4022715 | 10.0.15063.332 | -
System32/drivers/ntfs.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17623/6.2.9200.21743 KB3121255 | 6.3.9600.18654 KB4022726 | 10.0.14393.1198 KB4022715 | 10.0.15063.447 | -
System32/iologmsg.dll | 6.1.7601.23403 KB3125574 | 6.2.9200.16384 KB2995387 | - | - | - | -
System32/drivers/classpnp.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17061/6.2.9200.21180 KB2995387 | 6.3.9600.18334 KB3172614 | 10.0.14393.953 KB4022715 | - | -
System32/drivers/volsnap.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17047/6.2.9200.21165 KB2975331 | 6.3.9600.18265 KB3145384 | - | 10.0.15063.0 | -
System32/drivers/partmgr.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.16681 KB2877114 | 6.3.9600.17401 KB3000850 | 10.0.14393.953 KB4022715 | 10.0.15063.0 | -
System32/drivers/volmgr.sys | - | - | - | - | 10.0.15063.0 | -
System32/drivers/volmgrx.sys | 6.1.7601.23403 KB3125574 | - | - | - | 10.0.15063.0 | -
System32/drivers/msiscsi.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.21006 KB2955163 | 6.3.9600.18624 KB4022726 | 10.0.14393.1066 KB4022715 | 10.0.15063.447 | -
System32/drivers/msdsm.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.21474 KB3046101 | 6.3.9600.18592 KB4022726 | - | - | -
System32/drivers/mpio.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.21190 KB3046101 | 6.3.9600.18616 KB4022726 | 10.0.14393.1198 KB4022715 | - | -
System32/drivers/vmstorfl.sys | 6.3.9600.18907 KB4072650 | 6.3.9600.18080 KB3063109 | 6.3.9600.18907 KB4072650 | 10.0.14393.2007 KB4345418 | 10.0.15063.850 KB4345419 | 10.0.16299.371 KB4345420
System32/fveapi.dll | 6.1.7601.23311 KB3125574 | 6.2.9200.20930 KB2930244 | 6.3.9600.18294 KB3172614 | 10.0.14393.576 KB4022715 | - | -
System32/fveapibase.dll | 6.1.7601.23403 KB3125574 | 6.2.9200.20930 KB2930244 | 6.3.9600.17415 KB3172614 | 10.0.14393.206 KB4022715 | - | -
System32/drivers/netvsc.sys | - | - | - | 10.0.14393.1198 KB4022715 | 10.0.15063.250 KB4020001 | -
System32/drivers/mrxsmb10.sys | 6.1.7601.23816 KB4022722 | 6.2.9200.22108 KB4022724 | 6.3.9600.18603 KB4022726 | 10.0.14393.479 KB4022715 | 10.0.15063.483 | -
System32/drivers/mrxsmb20.sys | 6.1.7601.23816 KB4022722 | 6.2.9200.21548 KB4022724 | 6.3.9600.18586 KB4022726 | 10.0.14393.953 KB4022715 | 10.0.15063.483 | -
System32/drivers/mrxsmb.sys | 6.1.7601.23816 KB4022722 | 6.2.9200.22074 KB4022724 | 6.3.9600.18586 KB4022726 | 10.0.14393.953 KB4022715 | 10.0.15063.0 | -
System32/drivers/tcpip.sys | 6.1.7601.23761 KB4022722 | 6.2.9200.22070 KB4022724 | 6.3.9600.18478 KB4022726 | 10.0.14393.1358 KB4022715 | 10.0.15063.447 | -
System32/drivers/http.sys | 6.1.7601.23403 KB3125574 | 6.2.9200.17285 KB3042553 | 6.3.9600.18574 KB4022726 | 10.0.14393.251 KB4022715 | 10.0.15063.483 | -
System32/drivers/vmswitch.sys | 6.1.7601.23727 KB4022719 | 6.2.9200.22117 KB4022724 | 6.3.9600.18654 KB4022726 | 10.0.14393.1358 KB4022715 | 10.0.15063.138 | -
System32/ntoskrnl.exe | 6.1.7601.23807 KB4022719 | 6.2.9200.22170 KB4022718 | 6.3.9600.18696 KB4022726 | 10.0.14393.1358 KB4022715 | 10.0.15063.483 | -
System32/rdpcorets.dll | 6.2.9200.21506 KB4022719 | 6.2.9200.22104 KB4022724 | 6.3.9600.18619 KB4022726 | 10.0.14393.1198 KB4022715 | 10.0.15063.0 | -
System32/termsrv.dll | 6.1.7601.23403 KB3125574 | 6.2.9200.17048 KB2973501 | 6.3.9600.17415 KB3000850 | 10.0.14393.0 KB4022715 | 10.0.15063.0 | -
System32/drivers/termdd.sys | 6.1.7601.23403 KB3125574 | - | - | - | - | -
System32/win32k.sys | 6.1.7601.23807 KB4022719 | 6.2.9200.22168 KB4022718 | 6.3.9600.18698 KB4022726 | 10.0.14393.594 KB4022715 | - | -
System32/rdpdd.dll | 6.1.7601.23403 KB3125574 | - | - | - | - | -
System32/drivers/rdpwd.sys | 6.1.7601.23403 KB3125574 | - | - | - | - | -
";

/// The MS17-010 minimum of srv.sys and srv2.sys per build (the certification FAQ).
fn ms17_010(build: u32) -> Option<FileVersion> {
    let v = match build {
        7601 => [6, 1, 7601, 23689],
        9200 => [6, 2, 9200, 22099],
        9600 => [6, 3, 9600, 18604],
        14393 => [10, 0, 14393, 953],
        _ => return None,
    };
    Some(FileVersion(v))
}

/// The name of the OS of a build, for messages.
fn os_name(build: u32) -> &'static str {
    match build {
        7601 => "Windows Server 2008 R2 SP1 / Windows 7 SP1",
        9200 => "Windows Server 2012 / Windows 8",
        9600 => "Windows Server 2012 R2 / Windows 8.1",
        14393 => "Windows Server 2016 / Windows 10 1607",
        15063 => "Windows 10 1703",
        16299 => "Windows Server 1709 / Windows 10 1709",
        17763 => "Windows Server 2019 / Windows 10 1809",
        20348 => "Windows Server 2022",
        26100 => "Windows Server 2025 / Windows 11 24H2",
        _ => "Windows",
    }
}

/// A minimum of the table: one version, or the GDR and LDR branches of 2012.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Minimum {
    gdr: FileVersion,
    ldr: Option<FileVersion>,
    kb: Option<&'static str>,
}

impl Minimum {
    /// The minimum that applies to `v` (the LDR one for an LDR revision, 20000 and up).
    fn for_version(&self, v: FileVersion) -> FileVersion {
        match self.ldr {
            Some(ldr) if v.0[3] >= 20000 => ldr,
            _ => self.gdr,
        }
    }

    fn shown(&self) -> String {
        let mut s = match self.ldr {
            Some(l) => format!("{} (GDR) / {l} (LDR)", self.gdr),
            None => self.gdr.to_string(),
        };
        if let Some(kb) = self.kb {
            s.push_str(&format!(", {kb}"));
        }
        s
    }
}

/// The rows of the table for `build`: (path under \Windows, minimum).
fn table_for(build: u32) -> Vec<(&'static str, Minimum)> {
    let Some(col) = BUILDS.iter().position(|&b| b == build) else {
        return Vec::new();
    };
    TABLE
        .lines()
        .filter_map(|line| {
            let mut cells = line.split(" | ");
            let path = cells.next()?.trim();
            let cell = cells.nth(col)?.trim();
            if cell == "-" {
                return None;
            }
            let mut words = cell.split(' ');
            let versions = words.next()?;
            let kb = words.next();
            let mut vs = versions.split('/');
            let gdr = FileVersion::parse(vs.next()?)?;
            let ldr = vs.next().and_then(FileVersion::parse);
            Some((path, Minimum { gdr, ldr, kb }))
        })
        .collect()
}

fn shown_path(rel: &str) -> String {
    format!("\\Windows\\{}", rel.replace('/', "\\"))
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// What was read of one file.
enum Read {
    Version(FileVersion, u64),
    Absent,
    Unreadable(String),
}

fn read(ctx_view: &vhdlint_guest::view::GuestView, rel: &str) -> Read {
    match read_file_version(ctx_view, &format!("/Windows/{rel}")) {
        Ok(v) => match v.fixed {
            Some(f) => Read::Version(f.file_version, f.at),
            None => Read::Unreadable(format!(
                "its VS_VERSIONINFO at offset {:#x} has no VS_FIXEDFILEINFO",
                v.at
            )),
        },
        Err(e) if e.is_not_found() => Read::Absent,
        Err(FileVersionError::Fs(e)) => Read::Unreadable(e.to_string()),
        Err(e) => Read::Unreadable(format!("version resource: {e}")),
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let (g, hive) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let value = |name: &str| reg_value(hive, CURRENT_VERSION, name).ok().flatten();
    let text = |name: &str| value(name).and_then(|v| v.as_string().ok());
    let (build_name, build_text) = match text("CurrentBuild") {
        Some(b) => ("CurrentBuild", Some(b)),
        None => ("CurrentBuildNumber", text("CurrentBuildNumber")),
    };
    let Some(build_text) = build_text else {
        return Outcome::error(format!(
            "SOFTWARE\\{CURRENT_VERSION} has neither CurrentBuild nor CurrentBuildNumber: the build, and so the minimum versions, are unknown"
        ));
    };
    let Ok(build) = build_text.trim().parse::<u32>() else {
        return Outcome::error(format!(
            "SOFTWARE\\{CURRENT_VERSION} {build_name} = {build_text:?} is not a build number"
        ));
    };
    let major = value("CurrentMajorVersionNumber").and_then(|v| v.as_u32().ok());
    let ubr = value("UBR").and_then(|v| v.as_u32().ok());
    let release = format!(
        "build {build}{}",
        ubr.map_or(String::new(), |u| format!(".{u}"))
    );
    let mut ev = vec![Evidence::path(
        format!("SOFTWARE\\{CURRENT_VERSION}"),
        None,
        format!(
            "{build_name} = {build}, CurrentMajorVersionNumber = {}, UBR = {} ({})",
            major.map_or("absent".into(), |m| m.to_string()),
            ubr.map_or("absent".into(), |u| u.to_string()),
            os_name(build)
        ),
    )];
    let mut below_ms = Vec::new(); // "srv.sys 6.3.9600.17000 < 6.3.9600.18604"
    let mut below_table = Vec::new();
    let mut unreadable = Vec::new();
    let mut absent_srv = Vec::new();
    let ms = ms17_010(build);
    if let Some(min) = ms {
        for rel in ["System32/drivers/srv.sys", "System32/drivers/srv2.sys"] {
            let name = file_name(rel);
            match read(&g.view, rel) {
                Read::Version(v, at) => {
                    let ok = v >= min;
                    ev.push(Evidence::path(
                        shown_path(rel),
                        None,
                        format!(
                            "file version {v} (VS_FIXEDFILEINFO at offset {at:#x}), MS17-010 minimum {min}{}",
                            if ok { "" } else { ": below" }
                        ),
                    ));
                    if !ok {
                        below_ms.push(format!("{name} {v} < {min}"));
                    }
                }
                Read::Absent => {
                    absent_srv.push(name);
                    ev.push(Evidence::path(
                        shown_path(rel),
                        None,
                        if name == "srv.sys" {
                            "absent: the SMB1 server is not installed, so MS17-010's SMB1 flaws do not apply".to_string()
                        } else {
                            "absent".to_string()
                        },
                    ));
                }
                Read::Unreadable(e) => {
                    ev.push(Evidence::path(
                        shown_path(rel),
                        None,
                        format!("file version unreadable: {e} (MS17-010 minimum {min})"),
                    ));
                    unreadable.push(format!("{name}: {e}"));
                }
            }
        }
    } else {
        ev.push(Evidence::note(format!(
            "no MS17-010 minimum for build {build} ({}): the certification FAQ gives srv.sys/srv2.sys minimums for 2008 R2 SP1, 2012, 2012 R2 and 2016 only",
            os_name(build)
        )));
    }
    let table = table_for(build);
    let mut absent_table = Vec::new();
    for (rel, min) in &table {
        let name = file_name(rel);
        match read(&g.view, rel) {
            Read::Version(v, at) => {
                let m = min.for_version(v);
                let ok = v >= m;
                ev.push(Evidence::path(
                    shown_path(rel),
                    None,
                    format!(
                        "file version {v} (VS_FIXEDFILEINFO at offset {at:#x}), minimum {}{}",
                        min.shown(),
                        if ok { "" } else { ": below" }
                    ),
                ));
                if !ok {
                    below_table.push(format!("{name} {v} < {m}"));
                }
            }
            Read::Absent => absent_table.push(name),
            Read::Unreadable(e) => {
                ev.push(Evidence::path(
                    shown_path(rel),
                    None,
                    format!("file version unreadable: {e} (minimum {})", min.shown()),
                ));
                unreadable.push(format!("{name}: {e}"));
            }
        }
    }
    if !absent_table.is_empty() {
        ev.push(Evidence::note(format!(
            "absent, so not checked: {}",
            absent_table.join(", ")
        )));
    }
    if table.is_empty() {
        ev.push(Evidence::note(format!(
            "the preparation table gives no minimum file versions for build {build}"
        )));
    }
    let required = match ms {
        Some(min) => format!(
            "srv.sys and srv2.sys at least {min} (MS17-010); the preparation table's minimums for build {build}"
        ),
        None if table.is_empty() => format!("no minimums are given for build {build}"),
        None => format!("the preparation table's minimums for build {build}"),
    };
    let checked = table.len() - absent_table.len()
        + if ms.is_some() {
            2 - absent_srv.len()
        } else {
            0
        };
    let (status, actual, message) = if !below_ms.is_empty() {
        (
            Status::Fail,
            format!("{release}: {}", below_ms.join(", ")),
            format!(
                "{}: below the MS17-010 (WannaCry) minimum for {}",
                below_ms.join(", "),
                os_name(build)
            ),
        )
    } else if !unreadable.is_empty() {
        return Outcome::error(format!(
            "the file version of {} could not be read",
            unreadable.join("; ")
        ))
        .evidences(ev);
    } else if ms.is_some() && absent_srv.len() == 2 {
        (
            Status::Warning,
            format!("{release}: neither srv.sys nor srv2.sys"),
            "neither srv.sys nor srv2.sys is in \\Windows\\System32\\drivers, so the MS17-010 update cannot be confirmed".to_string(),
        )
    } else if !below_table.is_empty() {
        (
            Status::Warning,
            format!("{release}: {}", below_table.join(", ")),
            format!(
                "{}: below the minimum versions of the VHD preparation guide",
                below_table.join(", ")
            ),
        )
    } else if table.is_empty() && ms.is_none() && build < 17763 {
        (
            Status::Warning,
            format!("{release}: no minimums known"),
            format!(
                "build {build} has no column in the preparation table and no MS17-010 minimum, so its patch level cannot be judged"
            ),
        )
    } else {
        (
            Status::Pass,
            format!("{release}: {checked} files at or above their minimums"),
            String::new(),
        )
    };
    Outcome::with_status(status, actual, required)
        .message(message)
        .evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{hive, run_windows, said, MemFs};
    use vhdlint_guest::pe_version::sample::{driver, DATA_ENTRY, RSRC_RAW};
    use vhdlint_guest::windows::SOFTWARE_HIVE;

    const DRIVERS: &str = "/Windows/System32/drivers";

    fn software(build: &str, ubr: Option<u32>) -> Vec<u8> {
        let ubr = ubr.map_or(String::new(), |u| format!("\"UBR\"=dword:{u:08x}\n"));
        hive(&format!(
            "[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"{build}\"\n\"CurrentBuildNumber\"=\"{build}\"\n{ubr}"
        ))
    }

    fn v(s: &str) -> [u16; 4] {
        FileVersion::parse(s).unwrap().0
    }

    /// A guest of `build` with these files (path under \Windows, version).
    fn guest(build: &str, files: &[(&str, &str)]) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, software(build, Some(20520)));
        fs.dir(DRIVERS);
        for (rel, ver) in files {
            fs.file(&format!("/Windows/{rel}"), driver(file_name(rel), v(ver)));
        }
        fs
    }

    /// Every file of the table for `build`, at `ver`, with srv.sys and srv2.sys.
    fn updated(build: u32, ver: &str, srv: bool) -> MemFs {
        let mut files: Vec<(&str, &str)> =
            table_for(build).iter().map(|(p, _)| (*p, ver)).collect();
        files.push(("System32/drivers/srv2.sys", ver));
        if srv {
            files.push(("System32/drivers/srv.sys", ver));
        }
        guest(&build.to_string(), &files)
    }

    #[test]
    fn the_table_has_every_build_and_a_minimum_per_row() {
        let rows = TABLE.lines().count();
        assert_eq!(rows, 29);
        for line in TABLE.lines() {
            assert_eq!(line.split(" | ").count(), 1 + BUILDS.len(), "{line}");
            // Every cell is `-` or parses.
            for cell in line.split(" | ").skip(1) {
                let cell = cell.trim();
                if cell != "-" {
                    let vs = cell.split(' ').next().unwrap();
                    assert!(
                        vs.split('/').all(|x| FileVersion::parse(x).is_some()),
                        "{line}: {cell}"
                    );
                }
            }
        }
        assert_eq!(table_for(9600).len(), 22);
        assert_eq!(table_for(16299).len(), 1);
        assert!(table_for(17763).is_empty());
        let disk = &table_for(9200)[0];
        assert_eq!(disk.0, "System32/drivers/disk.sys");
        assert_eq!(
            disk.1.shown(),
            "6.2.9200.17638 (GDR) / 6.2.9200.21757 (LDR), KB3137061"
        );
    }

    #[test]
    fn passes_an_updated_2012_r2() {
        let o = run_windows(updated(9600, "6.3.9600.20520", true), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            "build 9600.20520: 24 files at or above their minimums"
        );
        let s = said(&o);
        assert!(
            s.contains("\\Windows\\System32\\drivers\\srv.sys file version 6.3.9600.20520 (VS_FIXEDFILEINFO at offset 0x"),
            "{s}"
        );
        assert!(s.contains("MS17-010 minimum 6.3.9600.18604"), "{s}");
        assert!(
            s.contains("\\Windows\\System32\\ntoskrnl.exe file version 6.3.9600.20520"),
            "{s}"
        );
        assert!(s.contains("minimum 6.3.9600.18696, KB4022726"), "{s}");
        assert!(s.contains("CurrentBuild = 9600"), "{s}");
        assert!(s.contains("UBR = 20520"), "{s}");
        assert!(!s.contains("below"), "{s}");
    }

    #[test]
    fn fails_a_srv_sys_below_ms17_010() {
        let mut fs = updated(9600, "6.3.9600.20520", true);
        fs.file(
            &format!("{DRIVERS}/srv.sys"),
            driver("srv.sys", v("6.3.9600.17000")),
        );
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.actual,
            "build 9600.20520: srv.sys 6.3.9600.17000 < 6.3.9600.18604"
        );
        assert!(o.message.contains("MS17-010"), "{}", said(&o));
        let s = said(&o);
        assert!(
            s.contains("srv.sys file version 6.3.9600.17000 (VS_FIXEDFILEINFO at offset 0x"),
            "{s}"
        );
        assert!(s.contains("MS17-010 minimum 6.3.9600.18604: below"), "{s}");
        // Exactly at the minimum passes.
        let mut fs = updated(9600, "6.3.9600.20520", true);
        fs.file(
            &format!("{DRIVERS}/srv.sys"),
            driver("srv.sys", v("6.3.9600.18604")),
        );
        assert_eq!(run_windows(fs, run).status, Status::Pass);
    }

    #[test]
    fn fails_each_build_below_its_ms17_010_minimum() {
        for (build, below, at) in [
            (7601, "6.1.7601.23688", "6.1.7601.23689"),
            (9200, "6.2.9200.22098", "6.2.9200.22099"),
            (14393, "10.0.14393.952", "10.0.14393.953"),
        ] {
            let mut fs = guest(&build.to_string(), &[]);
            fs.file(&format!("{DRIVERS}/srv2.sys"), driver("srv2.sys", v(below)));
            let o = run_windows(fs, run);
            assert_eq!(o.status, Status::Fail, "{build}: {}", said(&o));
            assert!(
                o.actual.contains(&format!("srv2.sys {below} < {at}")),
                "{}",
                said(&o)
            );
            let mut fs = guest(&build.to_string(), &[]);
            fs.file(&format!("{DRIVERS}/srv2.sys"), driver("srv2.sys", v(at)));
            assert_ne!(run_windows(fs, run).status, Status::Fail, "{build}");
        }
    }

    #[test]
    fn warns_for_a_table_binary_below_its_minimum() {
        let mut fs = updated(14393, "10.0.14393.5582", true);
        fs.file(
            "/Windows/System32/drivers/storport.sys",
            driver("storport.sys", v("10.0.14393.1000")),
        );
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.actual,
            "build 14393.20520: storport.sys 10.0.14393.1000 < 10.0.14393.1358"
        );
        assert!(
            said(&o).contains("minimum 10.0.14393.1358, KB4022715: below"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn the_2012_branches_are_compared_with_their_own_minimum() {
        // disk.sys: 6.2.9200.17638 (GDR) / 6.2.9200.21757 (LDR).
        for (ver, status) in [
            ("6.2.9200.17700", Status::Pass),
            ("6.2.9200.17600", Status::Warning),
            ("6.2.9200.21800", Status::Pass),
            ("6.2.9200.21000", Status::Warning),
        ] {
            let mut fs = updated(9200, "6.2.9200.22500", true);
            // The table's vmstorfl.sys of 2012 comes with the 2012 R2 integration services.
            fs.file(
                "/Windows/System32/drivers/vmstorfl.sys",
                driver("vmstorfl.sys", v("6.3.9600.18080")),
            );
            fs.file(
                "/Windows/System32/drivers/disk.sys",
                driver("disk.sys", v(ver)),
            );
            let o = run_windows(fs, run);
            assert_eq!(o.status, status, "{ver}: {}", said(&o));
        }
    }

    #[test]
    fn srv_sys_absent_with_srv2_sys_present_is_normal() {
        let o = run_windows(updated(9600, "6.3.9600.20520", false), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            said(&o).contains("srv.sys absent: the SMB1 server is not installed"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_when_neither_smb_server_driver_is_there() {
        let mut fs = guest("9600", &[]);
        fs.dir(DRIVERS);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message.contains("neither srv.sys nor srv2.sys"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn absent_table_binaries_are_listed_not_judged() {
        let fs = guest(
            "9600",
            &[
                ("System32/drivers/srv2.sys", "6.3.9600.20520"),
                ("System32/drivers/disk.sys", "6.3.9600.20520"),
            ],
        );
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            "build 9600.20520: 2 files at or above their minimums"
        );
        assert!(
            said(&o).contains("absent, so not checked: storport.sys, ntfs.sys"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn an_unreadable_version_is_an_error_never_a_pass() {
        // srv.sys without a version resource.
        let mut fs = updated(9600, "6.3.9600.20520", true);
        fs.file(&format!("{DRIVERS}/srv.sys"), b"MZ not a PE");
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message
                .contains("srv.sys: version resource: not a PE file"),
            "{}",
            said(&o)
        );
        // A table binary whose resource data entry points outside its section.
        let mut fs = updated(9600, "6.3.9600.20520", true);
        let mut b = driver("tcpip.sys", v("6.3.9600.20520"));
        b[RSRC_RAW + DATA_ENTRY..RSRC_RAW + DATA_ENTRY + 4]
            .copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
        fs.file("/Windows/System32/drivers/tcpip.sys", b);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains(&format!(
                "tcpip.sys: version resource: RT_VERSION data entry at offset {:#x}",
                RSRC_RAW + DATA_ENTRY
            )),
            "{}",
            said(&o)
        );
        // A failing srv.sys still fails when another file is unreadable.
        let mut fs = updated(9600, "6.3.9600.20520", true);
        fs.file(
            &format!("{DRIVERS}/srv.sys"),
            driver("srv.sys", v("6.3.9600.17000")),
        );
        fs.file("/Windows/System32/termsrv.dll", b"MZ");
        assert_eq!(run_windows(fs, run).status, Status::Fail);
    }

    #[test]
    fn builds_without_minimums() {
        // 2019: no MS17-010 minimum, no column.
        let o = run_windows(updated(17763, "10.0.17763.3887", false), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            "build 17763.20520: 0 files at or above their minimums"
        );
        assert!(
            said(&o).contains("no MS17-010 minimum for build 17763"),
            "{}",
            said(&o)
        );
        // An old build the table does not know: not judged, so not a pass.
        let o = run_windows(guest("7600", &[]), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn a_missing_build_is_an_error() {
        let mut fs = MemFs::new();
        fs.file(
            SOFTWARE_HIVE,
            hive(
                "[Microsoft\\Windows NT\\CurrentVersion]\n\"ProductName\"=\"Windows Server 2012 R2\"\n",
            ),
        );
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message
                .contains("neither CurrentBuild nor CurrentBuildNumber"),
            "{}",
            said(&o)
        );
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, software("nine", None));
        assert_eq!(run_windows(fs, run).status, Status::Error);
    }
}
