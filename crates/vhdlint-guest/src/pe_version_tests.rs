use super::*;

#[test]
fn seeds_tmp() {
    for f in ["srv-x64", "ntoskrnl-i386"] {
        let b = std::fs::read(format!("../../fuzz/seeds/exe_version/{f}")).unwrap();
        println!("{:?}", version_info(&b));
    }
}
