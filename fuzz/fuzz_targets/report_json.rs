#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vhdlint_fuzz::report_json(data));
