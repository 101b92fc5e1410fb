//! Golden tests: postalias's cases live beside postmap's in
//! `programs/postmap/tests/golden/`, marked by a `program` file that says `postalias`; they
//! were recorded from Postfix 3.7's postalias by that folder's `record.sh`.

#[test]
fn postalias_matches_postfix() {
    testkit::Golden {
        program: std::path::Path::new(env!("CARGO_BIN_EXE_postalias")),
        root: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../postmap/tests/golden"),
        placeholder: "$DIR",
        pending: &|_| None,
        select: &|case| testkit::case_program(case).as_deref() == Some("postalias"),
    }
    .run_all(10);
}
