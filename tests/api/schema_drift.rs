//! `schema.graphql` in the repository is exactly what `print-schema` prints.

#[test]
fn checked_in_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql exists");
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_sessions-gateway"))
        .arg("print-schema")
        .output()
        .expect("print-schema runs");
    assert!(printed.status.success());
    let printed = String::from_utf8(printed.stdout).unwrap();
    assert_eq!(printed, sessions_gateway::graphql::sdl());
    assert!(
        checked_in == printed,
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql`"
    );
    for line in [
        "scalar UserIdentifier",
        "scalar UUID",
        "scalar DateTime",
        "scalar Long",
        "userSessions(userIdentifier: UserIdentifier!): [TeacherSession!]",
        "startDate: Long!",
        "partnerId: UUID!",
        "startDateTime: DateTime!",
    ] {
        assert!(printed.contains(line), "the schema lost {line:?}");
    }
}
