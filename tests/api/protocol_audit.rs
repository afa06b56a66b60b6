//! The GraphQL-over-HTTP audit of `graphql-http` 1.23.1 (a referee nobody here wrote), run
//! against the real server. Every MUST and SHOULD must pass unless README names the SHOULD.

use std::process::Command;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_http_audit_passes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tools = Command::new("bash")
        .arg(format!("{root}/scripts/ensure-node-tools.sh"))
        .arg("graphql-http-audit")
        .status();
    if !matches!(tools, Ok(status) if status.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Node.js or the audit package is unavailable"
        );
        eprintln!("\n!!! Node.js or npm is missing: SKIPPING the graphql-http audit !!!\n");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut node = Command::new("node");
    node.arg(format!("{root}/tools/graphql-http-audit/audit.mjs"))
        .arg(format!("{}/graphql", app.base));
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the audit failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("audit: ") && stdout.contains(", 0 failed"),
        "{stdout}"
    );
    // After the audit's hostile and malformed requests the server still answers.
    assert_eq!(app.get("/healthz", None).await.status, 200);
}
