use vhdlint_guest::windows::show_data;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/sql-server",
    title: "SQL Server comes from an approved base",
    what: "Reads the SQL Server instances registered in the SOFTWARE hive: Microsoft\\Microsoft SQL Server\\Instance Names\\SQL (and WOW6432Node\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL for 32-bit instances), one value per instance (name = instance ID). An instance warns, each named: whether the image was built on Azure's approved SQL Server base cannot be told from the disk.",
    why: "The certification rejects an image with SQL Server installed by the publisher (software compliance): SQL Server images must be built from the approved SQL Server images Azure offers, which carry the licence terms Marketplace bills.",
    remedy: "Build the image on an approved SQL Server base image from Azure Marketplace, or uninstall SQL Server (Setup.exe /ACTION=Uninstall /FEATURES=SQL /INSTANCENAME=<name>) before generalizing.",
    sources: &[
        "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq): software compliance for Windows (SQL Server from an approved base)",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "whether to keep SQL Server is the publisher's choice (an approved SQL Server base, or uninstalling it with its own setup media)",
);

const INSTANCES: &[&str] = &[
    "Microsoft\\Microsoft SQL Server\\Instance Names\\SQL",
    "WOW6432Node\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL",
];

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "no SQL Server instance (unless built on the approved SQL Server base)";
    let mut names: Vec<String> = Vec::new();
    let mut evidence = Vec::new();
    let mut absent = Vec::new();
    for key in INSTANCES {
        let values = match hive
            .open(key)
            .and_then(|k| k.map(|k| k.values()).transpose())
        {
            Err(e) => return Outcome::error(format!("SOFTWARE\\{key}: {e}")),
            Ok(None) => {
                absent.push(Evidence::path(format!("SOFTWARE\\{key}"), None, "(no key)"));
                continue;
            }
            Ok(Some(v)) => v,
        };
        if values.iter().all(|v| v.name.is_empty()) {
            absent.push(Evidence::path(
                format!("SOFTWARE\\{key}"),
                None,
                "(no instance values)",
            ));
        }
        for v in values.iter().filter(|v| !v.name.is_empty()) {
            evidence.push(Evidence::reg("SOFTWARE", key, &v.name, show_data(v)));
            if !names.iter().any(|n| n.eq_ignore_ascii_case(&v.name)) {
                names.push(v.name.clone());
            }
        }
    }
    if names.is_empty() {
        return Outcome::pass("no instance", required).evidences(absent);
    }
    Outcome::warning(names.join(", "), required)
        .message(format!(
            "SQL Server is installed ({} instance{}: {}): an own image with SQL Server is rejected unless it is built on the approved SQL Server base",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ))
        .evidences(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        break_value, hive, run_windows, run_windows_inspection, said, windows_hives, MemFs,
    };
    use vhdlint_guest::windows::{WindowsInspection, SOFTWARE_HIVE};

    fn with(body: &str) -> Outcome {
        run_windows(
            windows_hives(
                None,
                Some(&format!(
                    "[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"17763\"\n\n{body}"
                )),
            ),
            run,
        )
    }

    #[test]
    fn passes_without_sql_server() {
        let o = with("");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no instance");
        // The key without instances (left by an uninstall) passes too.
        let o = with(&format!("[{}]\n\n", INSTANCES[0]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_naming_each_instance() {
        let o = with(&format!(
            "[{}]\n\"MSSQLSERVER\"=\"MSSQL15.MSSQLSERVER\"\n\"SQLEXPRESS\"=\"MSSQL15.SQLEXPRESS\"\n",
            INSTANCES[0]
        ));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "MSSQLSERVER, SQLEXPRESS");
        assert!(
            o.message
                .starts_with("SQL Server is installed (2 instances: MSSQLSERVER, SQLEXPRESS)"),
            "{}",
            o.message
        );
        let s = said(&o);
        assert!(
            s.contains("SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL MSSQLSERVER = \"MSSQL15.MSSQLSERVER\""),
            "{s}"
        );
    }

    #[test]
    fn finds_32_bit_instances() {
        let o = with(&format!(
            "[{}]\n\"SQLEXPRESS\"=\"MSSQL10.SQLEXPRESS\"\n",
            INSTANCES[1]
        ));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "SQLEXPRESS");
        assert!(said(&o).contains("SOFTWARE\\WOW6432Node\\"), "{}", said(&o));
    }

    #[test]
    fn error_when_the_instances_cannot_be_read() {
        let mut h = hive(&format!(
            "[{}]\n\"MSSQLSERVER\"=\"MSSQL15.MSSQLSERVER\"\n",
            INSTANCES[0]
        ));
        break_value(&mut h, "MSSQLSERVER");
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, h);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains(&format!("SOFTWARE\\{}: ", INSTANCES[0])),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_hive_or_a_system_volume() {
        let o = run_windows(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
