use crate::check::{CheckMeta, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/sql-server",
    title: "TODO: a short name for the table",
    what: "TODO: what the check looks at, and how (as the program that reads it would)",
    why: "TODO: why it matters to certification, and what happens to the VM otherwise",
    remedy: "TODO: how to fix a failure, as a command or an edit",
    sources: &["TODO: where the rule comes from (the guide, the certification FAQ, LISA)"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

pub fn run(_ctx: &Context) -> Outcome {
    Outcome::error("windows/sql-server is not written yet")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{run_windows, said, MemFs};

    #[test]
    fn passes_when_the_rule_is_followed() {
        let mut fs = MemFs::new();
        fs.dir("/etc"); // TODO: a guest that follows the rule
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_when_the_rule_is_broken() {
        let mut fs = MemFs::new();
        fs.dir("/etc"); // TODO: a guest that breaks the rule
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
    }
}
