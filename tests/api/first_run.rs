//! A newcomer's first run: the binary in an empty directory, with nothing configured, prints
//! tokens and curl lines that work as printed. Also the other commands, as a user runs them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sessions-gateway");

/// The environment of a fresh shell: none of the gateway's variables.
fn command(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("GATEWAY_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and returns the lines it printed up to the GraphiQL link.
fn start(dir: &std::path::Path) -> (Server, Vec<String>) {
    let mut child = command(dir)
        .env("GATEWAY_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let done = line.starts_with("GraphiQL as the student");
        lines.push(line);
        if done {
            break;
        }
    }
    (server, lines)
}

fn run_shell(line: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(line)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{line} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn first_run_prints_tokens_and_curl_lines_that_work() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "curl is required in CI"
        );
        eprintln!("\n!!! curl is missing: SKIPPING the first-run test !!!\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, lines) = start(dir.path());
    let text = lines.join("\n");
    assert!(text.contains("/graphiql"), "{text}");
    assert!(dir.path().join("sessions-gateway.db").exists());
    assert!(dir
        .path()
        .join("sessions-gateway.db.dev-jwt-secret")
        .exists());
    let curls: Vec<&String> = lines.iter().filter(|l| l.starts_with("curl ")).collect();
    assert_eq!(curls.len(), 3, "{text}");
    let student_rest: serde_json::Value = serde_json::from_str(&run_shell(curls[0])).unwrap();
    assert!(
        !student_rest.as_array().unwrap().is_empty(),
        "{student_rest}"
    );
    assert!(student_rest[0]["MeetingUrl"].is_string());
    let staff_rest: serde_json::Value = serde_json::from_str(&run_shell(curls[1])).unwrap();
    assert_eq!(
        staff_rest, student_rest,
        "the staff member reads the student's sessions"
    );
    let graphql: serde_json::Value = serde_json::from_str(&run_shell(curls[2])).unwrap();
    assert_eq!(
        graphql["data"]["userSessions"].as_array().unwrap().len(),
        student_rest.as_array().unwrap().len()
    );
    drop(server);

    // A second start reuses the database and the secret, and prints working tokens again.
    let secret =
        std::fs::read_to_string(dir.path().join("sessions-gateway.db.dev-jwt-secret")).unwrap();
    let (_server, lines) = start(dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sessions-gateway.db.dev-jwt-secret")).unwrap(),
        secret
    );
    let curl = lines
        .iter()
        .find(|l| l.starts_with("curl "))
        .expect("curl line on the second run");
    let again: serde_json::Value = serde_json::from_str(&run_shell(curl)).unwrap();
    assert_eq!(again, student_rest);
}

#[test]
fn token_import_migrate_and_bad_configuration_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let secret = "cli-test-secret-0123456789abcdefghij";
    let out = command(dir.path())
        .args(["--database-url", &db, "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let file = dir.path().join("data.json");
    std::fs::write(&file, sessions_gateway::demo::DOCUMENT).unwrap();
    let out = command(dir.path())
        .args(["--database-url", &db, "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("imported 2 centers, 4 users, 2 teachers, 3 sessions"));

    std::fs::write(&file, r#"{"sessions":[{"id":"nope"}]}"#).unwrap();
    let out = command(dir.path())
        .args(["--database-url", &db, "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sessions[0]")
            && stderr.contains("\"id\"")
            && stderr.contains("nothing was written"),
        "{stderr}"
    );

    let out = command(dir.path())
        .env("GATEWAY_JWT_SECRET", secret)
        .args([
            "token", "--sub", "ana.k", "--role", "Student", "--role", "QA", "--ttl", "5m",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        token.trim(),
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()).unwrap(),
        &validation,
    )
    .expect("the token verifies with the secret")
    .claims;
    assert_eq!(claims["sub"], "ana.k");
    assert_eq!(claims["roles"], serde_json::json!(["Student", "QA"]));
    let ttl = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(ttl, 300);

    // Bad configuration: one line naming the variable, and no start.
    for (variable, value, extra) in [
        ("GATEWAY_LISTEN", "not-an-address", None),
        ("GATEWAY_JWT_LEEWAY_SECS", "-3", None),
        ("DATABASE_URL", "mysql://x", None),
        ("GATEWAY_JWT_SECRET", "short", None),
        ("GATEWAY_JWT_ALGORITHM", "HS999", None),
        ("GATEWAY_INTROSPECTION", "false", None),
        (
            "GATEWAY_JWT_SECRET",
            "",
            Some(("DATABASE_URL", "postgres://127.0.0.1:1/x")),
        ),
    ] {
        let mut cmd = command(dir.path());
        cmd.env(variable, value);
        if let Some((k, v)) = extra {
            cmd.env(k, v);
        }
        if variable == "GATEWAY_JWT_SECRET" && value.is_empty() {
            cmd.env_remove("GATEWAY_JWT_SECRET");
        }
        let out = cmd
            .env(
                "GATEWAY_LISTEN",
                if variable == "GATEWAY_LISTEN" {
                    value
                } else {
                    "127.0.0.1:0"
                },
            )
            .arg("serve")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{variable}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains(" WARN ") && !l.contains(" INFO "))
            .collect();
        assert_eq!(lines.len(), 1, "{variable}={value}: {stderr}");
        let expected = if variable == "GATEWAY_JWT_SECRET" && value.is_empty() {
            "GATEWAY_JWT_SECRET"
        } else {
            variable
        };
        assert!(lines[0].contains(expected), "{variable}={value}: {stderr}");
    }
}
