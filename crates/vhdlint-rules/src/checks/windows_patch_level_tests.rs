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
    let mut files: Vec<(&str, &str)> = table_for(build).iter().map(|(p, _)| (*p, ver)).collect();
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
        said(&o)
            .contains("absent, so not checked (components not installed): storport.sys, ntfs.sys"),
        "{}",
        said(&o)
    );
}

#[test]
fn an_unreadable_version_is_an_error_never_a_pass() {
    // srv.sys without a version resource.
    let mut fs = updated(9600, "6.3.9600.20520", true);
    fs.file(&format!("{DRIVERS}/srv.sys"), b"MZ not a PE".to_vec());
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
    fs.file("/Windows/System32/termsrv.dll", b"MZ".to_vec());
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
