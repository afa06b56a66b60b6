//! GraphiQL in a real headless Chromium, with every request to another host blocked: the
//! page loads from the binary, runs a query with a token, and shows the sessions.

use std::process::Command;

use crate::helpers::*;

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(why: &str) {
    assert!(
        !required(),
        "CI=true but the browser test cannot run: {why}"
    );
    eprintln!("\n!!! {why}: SKIPPING the GraphiQL browser test !!!\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_in_headless_chromium() {
    let root = env!("CARGO_MANIFEST_DIR");
    let chromium = Command::new("bash")
        .arg(format!("{root}/scripts/ensure-chromium.sh"))
        .output();
    let chromium = match chromium {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => {
            return skip(
                "no Chromium (scripts/ensure-chromium.sh found none and could not install one)",
            )
        }
    };
    let tools = Command::new("bash")
        .arg(format!("{root}/scripts/ensure-node-tools.sh"))
        .arg("browser")
        .status();
    if !matches!(tools, Ok(status) if status.success()) {
        return skip("Node.js tools for the browser check are unavailable");
    }
    let app = spawn_app(Backend::Sqlite)
        .await
        .unwrap()
        .with_fixture()
        .await;
    let token = app.token(LEARNER, &["Student"]);
    let stdout = check(root, &chromium, &app.base, &token).await;
    assert!(
        stdout.contains(&url_of(SESSION_A)),
        "the result pane lacks the learner's sessions:\n{stdout}"
    );
    // Regression: with no token the page sent "Bearer " and every request, the schema fetch
    // included, was refused with 401.
    let stdout = check(root, &chromium, &app.base, "-").await;
    assert!(stdout.contains("UNAUTHENTICATED"), "{stdout}");
}

/// Runs the browser check and returns what it printed; fails the test when it fails.
async fn check(root: &str, chromium: &str, base: &str, token: &str) -> String {
    let shot = std::env::temp_dir().join(format!("graphiql-{}.png", uuid::Uuid::new_v4()));
    let mut node = Command::new("node");
    node.arg(format!("{root}/tools/browser/graphiql-check.mjs"))
        .arg(base)
        .arg(token)
        .env("CHROMIUM", chromium)
        .env("SCREENSHOT", &shot);
    // The server runs on this runtime; wait for the browser off it.
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the GraphiQL check failed:\n{stdout}\n{stderr}"
    );
    let _ = std::fs::remove_file(shot);
    stdout
}
