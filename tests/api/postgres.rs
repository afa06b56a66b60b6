//! What only PostgreSQL deployments face: replicas starting together, outages between the
//! gateway and the server, and answers byte-identical to SQLite's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    let settings = settings(&db.url, &[]);
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            let settings = settings.clone();
            tokio::spawn(async move {
                sessions_gateway::startup::Application::build(&settings)
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    for replica in replicas {
        let started = replica.await.unwrap();
        assert!(
            started.is_ok(),
            "a replica failed to start: {}",
            started.unwrap_err()
        );
    }
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM seaql_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied, 1);
    // No demo data on PostgreSQL, ever.
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_answer_with_the_same_bytes() {
    let Some(pg) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let sqlite = spawn_app(Backend::Sqlite).await.unwrap();
    for app in [&pg, &sqlite] {
        app.import(&fixture()).await;
    }
    let requests: Vec<(&str, &[&str], String)> = vec![
        (LEARNER, &["Student"], "me".into()),
        (S1, &["StaffMember"], LEARNER_LOGIN.to_uppercase()),
        (S1, &["StaffMember"], PEER.into()),
        (S2, &["StaffMember"], FAR.into()),
        (S2, &["StaffMember"], LEARNER.into()),
        (LONER, &["User"], "me".into()),
        (LEARNER, &["QA"], "me".into()),
    ];
    for (sub, roles, identifier) in &requests {
        let (a, b) = (pg.token(sub, roles), sqlite.token(sub, roles));
        let (x, y) = (
            pg.sessions(identifier, Some(&a)).await,
            sqlite.sessions(identifier, Some(&b)).await,
        );
        assert_eq!(
            (x.status, &x.body),
            (y.status, &y.body),
            "REST {sub} -> {identifier}"
        );
        let query = format!(
            r#"{{ userSessions(userIdentifier: "{identifier}") {{ name contact photo startDate endDate partnerId contentItemId teacherId meetingUrl startDateTime endDateTime }} }}"#
        );
        let (x, y) = (
            pg.graphql(&query, Some(&a)).await,
            sqlite.graphql(&query, Some(&b)).await,
        );
        assert_eq!(
            (x.status, &x.body),
            (y.status, &y.body),
            "GraphQL {sub} -> {identifier}"
        );
    }
    assert_eq!(
        pg.sessions("me", Some(&pg.token(LEARNER, &["Student"])))
            .await
            .body,
        learner_rest_body()
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Open,
    /// Connections stay up but no byte crosses.
    Stalled,
    /// Every connection is closed and new ones are refused.
    Cut,
}

/// A TCP proxy between the gateway and PostgreSQL that a test can stall or cut.
struct Proxy {
    port: u16,
    link: watch::Sender<Link>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (link, watcher) = watch::channel(Link::Open);
        let upstream = Arc::new(upstream);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if *watcher.borrow() == Link::Cut {
                    drop(client);
                    continue;
                }
                let (upstream, watcher) = (upstream.clone(), watcher.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream.as_str()).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        _ = pump(cr, sw, watcher.clone()) => {}
                        _ = pump(sr, cw, watcher.clone()) => {}
                    }
                });
            }
        });
        Proxy { port, link }
    }

    fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

/// Copies bytes while the link is open; waits while stalled; returns (closing) once cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut link: watch::Receiver<Link>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let state = *link.borrow_and_update();
        match state {
            Link::Cut => return,
            Link::Stalled => {
                if link.changed().await.is_err() {
                    return;
                }
            }
            Link::Open => tokio::select! {
                read = from.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => if to.write_all(&buf[..n]).await.is_err() { return },
                },
                _ = link.changed() => {}
            },
        }
    }
}

const FAILURE: &str = r#"{"Message":"An error has occurred."}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_fail_fast_and_heal_by_themselves() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    let (server, name) = db
        .url
        .trim_start_matches("postgres://")
        .split_once('/')
        .unwrap();
    let (user, hostport) = server.split_once('@').unwrap();
    let proxy = Proxy::start(hostport.to_owned()).await;
    let through_proxy = format!("postgres://{user}@127.0.0.1:{}/{name}", proxy.port);
    let settings = settings(
        &through_proxy,
        &[
            "--db-acquire-timeout-ms",
            "1000",
            "--db-statement-timeout-ms",
            "2000",
            "--request-timeout-ms",
            "3000",
            "--db-max-connections",
            "4",
        ],
    );
    let app = Arc::new(start(db, &settings).await.with_fixture().await);
    let token = app.token(S1, &["StaffMember"]);
    let timed = |app: Arc<TestApp>, token: String| async move {
        let started = Instant::now();
        let reply = app.sessions(LEARNER, Some(&token)).await;
        (reply.status, reply.body, started.elapsed())
    };
    assert_eq!(app.sessions(LEARNER, Some(&token)).await.status, 200);

    // The database goes away: readiness says so, requests fail fast with the generic error.
    proxy.set(Link::Cut);
    assert_eq!(app.get("/readyz", None).await.status, 503);
    for _ in 0..3 {
        let (status, body, took) = timed(app.clone(), token.clone()).await;
        assert_eq!((status, body.as_str()), (500, FAILURE));
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }
    let body = app
        .graphql(
            &format!(r#"{{ userSessions(userIdentifier: "{LEARNER}") {{ name }} }}"#),
            Some(&token),
        )
        .await
        .json();
    assert_eq!(codes(&body), ["INTERNAL_SERVER_ERROR"]);
    assert!(
        !body.to_string().to_lowercase().contains("connect"),
        "{body}"
    );

    // It comes back: the gateway heals without a restart.
    proxy.set(Link::Open);
    assert!(
        heal(&app, &token).await,
        "the gateway did not recover after the database returned"
    );
    assert_eq!(app.get("/readyz", None).await.status, 200);

    // A cut while a query is in flight: that request fails, quickly, and later ones succeed.
    proxy.set(Link::Stalled);
    let in_flight = tokio::spawn(timed(app.clone(), token.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.set(Link::Cut);
    let (status, body, took) = in_flight.await.unwrap();
    assert_eq!((status, body.as_str()), (500, FAILURE));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    proxy.set(Link::Open);
    assert!(heal(&app, &token).await);

    // A database that stops answering without closing: the request deadline (503) or the
    // pool's acquire timeout (500), whichever comes first, answers with the generic body.
    proxy.set(Link::Stalled);
    let (status, body, took) = timed(app.clone(), token.clone()).await;
    assert!(status == 503 || status == 500, "{status}");
    assert_eq!(body, FAILURE);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // GraphQL fails in its own shape and media type (the deadline, or the pool's acquire
    // timeout, whichever comes first).
    let query = format!(r#"{{ userSessions(userIdentifier: "{LEARNER}") {{ name }} }}"#);
    let reply = app
        .graphql_accepting(&query, Some(&token), "application/graphql-response+json")
        .await;
    assert_eq!(
        reply.header("content-type"),
        "application/graphql-response+json; charset=utf-8"
    );
    let outcome = (reply.status, codes(&reply.json()));
    assert!(
        outcome == (503, vec!["TIMEOUT".to_owned()])
            || outcome == (200, vec!["INTERNAL_SERVER_ERROR".to_owned()]),
        "{outcome:?}"
    );
    proxy.set(Link::Open);
    assert!(heal(&app, &token).await);
}

/// Polls for up to ten seconds until a request succeeds again.
async fn heal(app: &TestApp, token: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if app.sessions(LEARNER, Some(token)).await.status == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Managed PostgreSQL services require TLS: `sslmode=require` in DATABASE_URL must work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_when_the_url_asks_for_them() {
    use sea_orm::ConnectionTrait;
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let (ssl,): (String,) = sqlx::query_as("SHOW ssl")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if ssl != "on" {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the PostgreSQL server has ssl=off"
        );
        eprintln!("\n!!! the PostgreSQL server has ssl=off: SKIPPING the TLS test !!!\n");
        return;
    }
    let settings = settings(&format!("{}?sslmode=require", db.url), &[]);
    let app = start(db, &settings).await;
    let db = app.store.connection();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.try_get_by_index::<bool>(0).unwrap(),
        "the connection is not encrypted"
    );
}
