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

struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`, as the server printed it.
    addr: String,
    /// Where its standard error (the log) goes.
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` and returns the lines it printed up to the GraphiQL link.
fn start(dir: &std::path::Path) -> (Server, Vec<String>) {
    let log = dir.join(format!("server-{}.log", uuid::Uuid::new_v4()));
    let mut child = command(dir)
        .env("GATEWAY_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
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
    let addr = lines
        .first()
        .and_then(|l| l.strip_prefix("sessions-gateway is listening on "))
        .unwrap_or_else(|| panic!("no address printed: {lines:?}"))
        .to_owned();
    (Server { child, addr, log }, lines)
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_success(&out);

    let file = dir.path().join("data.json");
    std::fs::write(&file, sessions_gateway::demo::DOCUMENT).unwrap();
    let out = command(dir.path())
        .args(["--database-url", &db, "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
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
    assert_success(&out);
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

    // The lifetime of a token is bounded, not overflowed.
    for ttl in ["99999999999999999d", "18446744073709551615", "3651d", "0"] {
        let out = command(dir.path())
            .env("GATEWAY_JWT_SECRET", secret)
            .args(["token", "--sub", "ana.k", "--ttl", ttl])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--ttl {ttl}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--ttl") && stderr.lines().count() == 1,
            "--ttl {ttl}: {stderr}"
        );
    }
    for (args, expected) in [
        (&["token", "--sub", " "][..], "--sub"),
        (&["token", "--sub", "x", "--role", "Studnet"], "--role"),
        (&["token"], "--sub"),
    ] {
        let out = command(dir.path())
            .env("GATEWAY_JWT_SECRET", secret)
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{args:?}"
        );
    }
}

#[test]
fn bad_configuration_stops_the_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value, expected) in [
        ("GATEWAY_LISTEN", "not-an-address", "GATEWAY_LISTEN"),
        ("GATEWAY_JWT_LEEWAY_SECS", "-3", "GATEWAY_JWT_LEEWAY_SECS"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("GATEWAY_JWT_SECRET", "short", "GATEWAY_JWT_SECRET"),
        ("GATEWAY_JWT_ALGORITHM", "HS999", "GATEWAY_JWT_ALGORITHM"),
        ("GATEWAY_INTROSPECTION", "false", "GATEWAY_INTROSPECTION"),
        (
            "GATEWAY_CORS_ORIGINS",
            "app.example.com",
            "GATEWAY_CORS_ORIGINS",
        ),
        ("GATEWAY_MAX_DEPHT", "20", "GATEWAY_MAX_DEPHT"),
        // PostgreSQL without a signing key.
        (
            "DATABASE_URL",
            "postgres://127.0.0.1:1/x",
            "GATEWAY_JWT_SECRET",
        ),
    ] {
        let mut child = command(dir.path())
            .env("GATEWAY_LISTEN", "127.0.0.1:0")
            .env(variable, value)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{variable}={value} started instead of stopping");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(!status.success(), "{variable}={value}");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains(" WARN ") && !l.contains(" INFO "))
            .collect();
        assert_eq!(lines.len(), 1, "{variable}={value}: {stderr}");
        assert!(lines[0].contains(expected), "{variable}={value}: {stderr}");
    }
}

/// K02's other half: the cause of an internal failure reaches the log, and only the log.
#[test]
fn database_failures_are_logged_and_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path());
    let secret =
        std::fs::read_to_string(dir.path().join("sessions-gateway.db.dev-jwt-secret")).unwrap();
    let out = command(dir.path())
        .env("GATEWAY_JWT_SECRET", secret.trim())
        .args([
            "token",
            "--sub",
            sessions_gateway::demo::STUDENT_LOGIN,
            "--role",
            "Student",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let addr = server.addr.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = format!(
            "sqlite://{}",
            dir.path().join("sessions-gateway.db").display()
        );
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db)
            .await
            .unwrap();
        sqlx::query("DROP TABLE session_attendees")
            .execute(&mut conn)
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let rest = client
            .get(format!("{addr}/users/me/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(rest.status(), 500);
        assert_eq!(
            rest.text().await.unwrap(),
            r#"{"Message":"An error has occurred."}"#
        );
        // A login subject is resolved before execution: a failure there is internal, not a 401.
        sqlx::query("DROP TABLE users")
            .execute(&mut conn)
            .await
            .unwrap();
        let gql = client
            .post(format!("{addr}/graphql"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"query":"{ userSessions(userIdentifier: \"me\") { name } }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(gql.status(), 500);
        let body: serde_json::Value = gql.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
        assert!(body.get("data").is_none());
    });
    let log_file = server.log.clone();
    drop(server);
    let log = std::fs::read_to_string(log_file).unwrap();
    assert!(
        log.contains("no such table"),
        "the cause is not in the log:\n{log}"
    );
}
