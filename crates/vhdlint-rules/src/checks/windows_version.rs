use vhdlint_guest::windows::reg_value;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/version",
    title: "Approved Windows Server base",
    what: "Reads ProductName, CurrentBuild, EditionID and InstallationType from the SOFTWARE hive's Microsoft\\Windows NT\\CurrentVersion. guide: client editions (InstallationType Client, or a product name without \"Server\") fail; a server older than Windows Server 2008 R2 SP1 (build 7601) warns; 2008 R2 SP1, 2012 (9200), 2012 R2 (9600) and later pass.",
    why: "Marketplace Windows images must be built on an approved Windows Server base; client editions cannot be licensed through the Marketplace.",
    remedy: "Build the image from an approved Windows Server base (Windows Server 2012 R2 or later, as offered in Azure).",
    sources: &["Azure Marketplace VM image guide: approved Windows Server bases (2008 R2 SP1, 2012, 2012 R2 and later)"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the Windows version and edition are the installation's: rebuild the image from an approved Windows Server base",
);

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let key = "Microsoft\\Windows NT\\CurrentVersion";
    let get = |name: &str| {
        reg_value(hive, key, name)
            .ok()
            .flatten()
            .and_then(|v| v.as_string().ok())
    };
    let product = get("ProductName");
    let build: Option<u32> = get("CurrentBuild")
        .or_else(|| get("CurrentBuildNumber"))
        .and_then(|b| b.trim().parse().ok());
    let edition = get("EditionID");
    let install = get("InstallationType");
    let required = "Windows Server 2008 R2 SP1, 2012, 2012 R2 or later";
    let Some(product) = product else {
        return Outcome::error(format!("SOFTWARE\\{key} has no ProductName"));
    };
    let actual = format!(
        "{product} (build {})",
        build.map_or("?".into(), |b| b.to_string())
    );
    let ev = vec![
        Evidence::path(
            format!("SOFTWARE\\{key}"),
            None,
            format!("ProductName = {product}"),
        ),
        Evidence::path(
            format!("SOFTWARE\\{key}"),
            None,
            format!(
                "CurrentBuild = {}, EditionID = {}, InstallationType = {}",
                build.map_or("?".into(), |b| b.to_string()),
                edition.as_deref().unwrap_or("?"),
                install.as_deref().unwrap_or("?")
            ),
        ),
    ];
    let mut ev = ev;
    if hive.is_dirty() {
        ev.push(Evidence::note("the SOFTWARE hive is dirty (its sequence numbers differ): it was not flushed when captured"));
    }
    let client = install
        .as_deref()
        .is_some_and(|i| i.eq_ignore_ascii_case("client"))
        || !product.to_ascii_lowercase().contains("server");
    if client {
        return Outcome::fail(actual, required)
            .message(format!(
                "{product} is a client edition, not a Windows Server base"
            ))
            .evidences(ev);
    }
    match build {
        Some(b) if b >= 7601 => Outcome::pass(actual, required).evidences(ev),
        Some(b) => Outcome::warning(actual, required)
            .message(format!(
                "build {b} is older than Windows Server 2008 R2 SP1 (7601)"
            ))
            .evidences(ev),
        None => Outcome::warning(actual, required)
            .message("the build number is missing, so the base cannot be confirmed")
            .evidences(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{hive, hive_with, run_windows, said, MemFs};
    use vhdlint_guest::windows::SOFTWARE_HIVE;

    const KEY: &str = "[Microsoft\\Windows NT\\CurrentVersion]\n";

    fn with_software(h: Vec<u8>) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, h);
        run_windows(fs, run)
    }

    /// A SOFTWARE hive with these values of CurrentVersion (.reg lines).
    fn values(lines: &str) -> Outcome {
        with_software(hive(&format!("{KEY}{lines}")))
    }

    fn server(build: &str) -> Outcome {
        values(&format!(
            "\"ProductName\"=\"Windows Server 2012 R2 Datacenter\"\n\"CurrentBuild\"=\"{build}\"\n\"EditionID\"=\"ServerDatacenter\"\n\"InstallationType\"=\"Server\"\n"
        ))
    }

    #[test]
    fn passes_windows_server_2012_r2() {
        let o = server("9600");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "Windows Server 2012 R2 Datacenter (build 9600)");
        let s = said(&o);
        assert!(
            s.contains("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion ProductName = Windows Server 2012 R2 Datacenter"),
            "{s}"
        );
        assert!(
            s.contains(
                "CurrentBuild = 9600, EditionID = ServerDatacenter, InstallationType = Server"
            ),
            "{s}"
        );
        assert!(!s.contains("dirty"), "{s}");
    }

    #[test]
    fn passes_build_7601() {
        let o = server("7601");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_below_build_7601() {
        let o = server("7600");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "Windows Server 2012 R2 Datacenter (build 7600)");
        assert!(o.message.contains("build 7600 is older"), "{}", said(&o));
    }

    #[test]
    fn reads_current_build_number_without_current_build() {
        let o = values(
            "\"ProductName\"=\"Windows Server 2016 Standard\"\n\"CurrentBuildNumber\"=\" 14393 \"\n",
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "Windows Server 2016 Standard (build 14393)");
        assert!(
            said(&o).contains("CurrentBuild = 14393, EditionID = ?, InstallationType = ?"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_without_a_build_number() {
        let o = values("\"ProductName\"=\"Windows Server 2019 Datacenter\"\n");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "Windows Server 2019 Datacenter (build ?)");
        assert!(said(&o).contains("CurrentBuild = ?"), "{}", said(&o));
    }

    #[test]
    fn warns_when_the_build_is_not_a_number() {
        let o = server("9600a");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "Windows Server 2012 R2 Datacenter (build ?)");
    }

    #[test]
    fn fails_a_client_product_name() {
        let o = values(
            "\"ProductName\"=\"Windows 10 Pro\"\n\"CurrentBuild\"=\"19045\"\n\"InstallationType\"=\"Server\"\n",
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "Windows 10 Pro (build 19045)");
        assert!(o.message.contains("Windows 10 Pro is a client edition"));
    }

    #[test]
    fn fails_a_client_installation_type() {
        let o = values(
            "\"ProductName\"=\"Windows Server 2022 Datacenter\"\n\"CurrentBuild\"=\"20348\"\n\"InstallationType\"=\"client\"\n",
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            said(&o).contains("InstallationType = client"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_a_lowercase_server_product_name() {
        let o = values("\"ProductName\"=\"windows server 2022\"\n\"CurrentBuild\"=\"20348\"\n");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn notes_a_dirty_hive() {
        let h = hive_with(
            &format!("{KEY}\"ProductName\"=\"Windows Server 2012\"\n\"CurrentBuild\"=\"9200\"\n"),
            &["--dirty"],
        );
        let o = with_software(h);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.evidence.len(), 3);
        assert!(said(&o).contains("SOFTWARE hive is dirty"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_product_name() {
        let o = values("\"ProductName\"=dword:00000001\n\"CurrentBuild\"=\"9600\"\n");
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion has no ProductName"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_software_hive() {
        let o = run_windows(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive: "), "{}", said(&o));
    }
}
