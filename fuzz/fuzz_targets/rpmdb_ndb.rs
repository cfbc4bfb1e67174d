#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vhdlint_fuzz::rpmdb_ndb(data));
