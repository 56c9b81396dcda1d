//! Compile errors of the derives, pinned: each `ui/*.rs` must fail to compile
//! with exactly the messages in its `.stderr` (regenerate with
//! `TRYBUILD=overwrite cargo test -p kafka-derive --test ui`, then review).

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
