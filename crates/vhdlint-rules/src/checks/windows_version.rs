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
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let hive = match g.software() {
        Ok(h) => h,
        Err(e) => return Outcome::error(format!("SOFTWARE hive: {e}")),
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
