//! What kmod's `modprobe` reads from a guest: the modprobe.d files, in its order (see
//! [`crate::config::modprobe`] for the syntax and the order).

use crate::config::modprobe::{self, Directive, Kind, DIRECTORIES};
use crate::fs::FileKind;
use crate::limits::MAX_MODPROBE_FILES;
use crate::note::Note;
use crate::view::GuestView;

/// A `blacklist` or `install` directive and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: String,
    pub directive: Directive,
}

/// The modprobe.d configuration of a guest.
#[derive(Debug, Clone, Default)]
pub struct Modprobe {
    /// The files read, in kmod's order.
    pub files: Vec<String>,
    /// Their `blacklist` and `install` directives, in kmod's order.
    pub directives: Vec<Located>,
    /// Directories and files that could not be listed or read, and a bound reached: a
    /// directive may be missing.
    pub notes: Vec<Note>,
}

impl Modprobe {
    /// The first `blacklist` of module `name`.
    pub fn blacklist(&self, name: &str) -> Option<&Located> {
        self.directives
            .iter()
            .find(|d| d.directive.kind == Kind::Blacklist && d.directive.applies_to(name))
    }

    /// The install command modprobe runs for module `name`: the first `install` that
    /// matches it.
    pub fn install(&self, name: &str) -> Option<&Located> {
        self.directives
            .iter()
            .find(|d| matches!(d.directive.kind, Kind::Install(_)) && d.directive.applies_to(name))
    }
}

/// Reads the modprobe.d files of the guest as kmod does.
pub fn read_modprobe(view: &GuestView) -> Modprobe {
    let mut m = Modprobe::default();
    let mut dirs: Vec<(&str, Vec<String>)> = Vec::new();
    for d in DIRECTORIES {
        let names = match view.read_dir(d) {
            Ok(entries) => entries
                .into_iter()
                // kmod skips directories (and says so).
                .filter(|e| e.kind != FileKind::Dir)
                .map(|e| e.name)
                .collect(),
            Err(e) => {
                m.notes.extend(Note::from_fs_error(d, &e));
                Vec::new()
            }
        };
        dirs.push((d, names));
    }
    let (files, cut) = modprobe::read_order(&dirs);
    if cut {
        m.notes.push(
            Note::bound(
                "MAX_MODPROBE_FILES",
                format!("more than {MAX_MODPROBE_FILES} modprobe.d files, the limit: only the first {MAX_MODPROBE_FILES} in kmod's order are read"),
            )
            .at(DIRECTORIES.join(", ")),
        );
    }
    for f in files {
        // A file linked to /dev/null (how a file of /lib is masked) reads as missing: nothing.
        if let Some(text) = view.read_noted(&f, &mut m.notes) {
            m.directives
                .extend(modprobe::parse(&text).into_iter().map(|directive| Located {
                    path: f.clone(),
                    directive,
                }));
        }
        m.files.push(f);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::mem::MemFs;
    use crate::fs::FsError;

    #[test]
    fn etc_overrides_lib_and_the_first_install_applies() {
        let mut fs = MemFs::new();
        fs.file("/lib/modprobe.d/50-cis.conf", "install udf /bin/false\n")
            .file("/etc/modprobe.d/50-cis.conf", "# emptied\n")
            .file(
                "/lib/modprobe.d/10-a.conf",
                "install udf /sbin/modprobe --ignore-install udf\n",
            )
            .file(
                "/usr/lib/modprobe.d/90-z.conf",
                "install udf /bin/true\nblacklist vfat\n",
            )
            .file("/etc/modprobe.d/readme", "blacklist udf\n")
            .dir("/etc/modprobe.d/sub.conf");
        let m = read_modprobe(&GuestView::of(fs));
        assert_eq!(
            m.files,
            [
                "/lib/modprobe.d/10-a.conf",
                "/etc/modprobe.d/50-cis.conf",
                "/usr/lib/modprobe.d/90-z.conf"
            ]
        );
        let i = m.install("udf").unwrap();
        assert_eq!(i.path, "/lib/modprobe.d/10-a.conf");
        assert!(m.blacklist("udf").is_none());
        assert_eq!(m.blacklist("vfat").unwrap().directive.line, 2);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
    }

    #[test]
    fn files_past_the_bound_are_not_read_and_noted() {
        for (n, cut) in [(MAX_MODPROBE_FILES, false), (MAX_MODPROBE_FILES + 1, true)] {
            let mut fs = MemFs::new();
            for i in 0..n {
                fs.file(&format!("/etc/modprobe.d/{i:05}.conf"), "blacklist udf\n");
            }
            let m = read_modprobe(&GuestView::of(fs));
            assert_eq!(m.files.len(), MAX_MODPROBE_FILES);
            assert_eq!(m.directives.len(), MAX_MODPROBE_FILES);
            let s = format!("{:?}", m.notes);
            assert_eq!(s.contains("MAX_MODPROBE_FILES"), cut, "{s}");
        }
    }

    #[test]
    fn unreadable_places_are_noted() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/etc/modprobe.d",
            FsError::Io("/etc/modprobe.d: read error".into()),
        )
        .broken_file(
            "/lib/modprobe.d/x.conf",
            FsError::Corrupt("x.conf: bad extent".into()),
        );
        let m = read_modprobe(&GuestView::of(fs));
        let s = format!("{:?}", m.notes);
        assert!(s.contains("read error") && s.contains("bad extent"), "{s}");
    }
}
