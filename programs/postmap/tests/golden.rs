//! Golden tests: each folder under `tests/golden/` holds a postmap command line, the table
//! sources it reads, and what Postfix 3.7's postmap printed for it (recorded by
//! `tests/golden/record.sh`). ironpost's postmap must produce the same bytes.

#[test]
fn postmap_matches_postfix() {
    testkit::Golden {
        program: std::path::Path::new(env!("CARGO_BIN_EXE_postmap")),
        root: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        placeholder: "$DIR",
    }
    .run_all(1);
}
