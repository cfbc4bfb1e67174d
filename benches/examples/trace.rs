use std::sync::Arc;
use vhdlint_disk::source::FileSource;
use vhdlint_disk::ReadAt;
use vhdlint_rules::{run, Image, Policy, ProfileChoice, RunOptions, Selection};
struct Log(FileSource);
impl ReadAt for Log {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_at(&self, o: u64, b: &mut [u8]) -> vhdlint_disk::Result<()> {
        eprintln!("R {o} {} {:?}", b.len(), std::thread::current().id());
        self.0.read_at(o, b)
    }
    fn name(&self) -> String {
        self.0.name()
    }
}
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let mut ign = vec!["disk/sparse".to_string()];
    ign.extend(std::env::args().skip(2));
    let src = Arc::new(Log(FileSource::open(std::path::Path::new(&p)).unwrap()));
    let img = Image::from_source(&p, src);
    let opts = RunOptions {
        policy: Policy::guide(),
        profile: ProfileChoice::Auto,
        selection: Selection {
            select: vec![],
            ignore: ign,
        },
        progress: None,
        generation: Default::default(),
    };
    let r = run(&img, &opts);
    println!("{}", r.summary.fail);
}
