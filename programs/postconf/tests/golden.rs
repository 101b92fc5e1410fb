//! Golden tests: each folder under `tests/golden/` holds a postconf command line, the
//! main.cf and master.cf it reads, and the output, error output, exit status and edited
//! files that Postfix 3.7's postconf produced for them (recorded by `tests/golden/record.sh`).
//! ironpost's postconf must produce the same bytes.

#[test]
fn postconf_matches_postfix() {
    testkit::Golden {
        program: std::path::Path::new(env!("CARGO_BIN_EXE_postconf")),
        root: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        placeholder: "$CONFIG",
        pending: &|_| None,
        select: &|_| true,
    }
    .run_all(50);
}
