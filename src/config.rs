//! Settings from environment variables and flags (flags win), checked at start. A bad value
//! stops the process with one line naming the variable; nothing falls back to a default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use jsonwebtoken::Algorithm;

#[derive(Debug, Parser)]
#[command(
    name = "sessions-gateway",
    version,
    about = "GraphQL gateway and legacy Web API shim for teacher sessions"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL, GraphiQL and the Web API shim (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load a JSON document of centers, users, teachers and sessions (all or nothing).
    Import {
        /// The JSON file to load ("-" for standard input).
        file: PathBuf,
    },
    /// Mint an HS256 token with the configured (or development) secret.
    Token {
        /// The subject: a user id (GUID) or a login.
        #[arg(long)]
        sub: String,
        /// A role to include; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Lifetime, e.g. 3600, 90s, 30m, 12h, 7d.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        ttl: Duration,
    },
    /// Print the GraphQL schema (SDL).
    PrintSchema,
}

#[derive(Debug, Clone, Args)]
pub struct SettingsArgs {
    /// sqlite://… or postgres://…
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = "sqlite://sessions-gateway.db?mode=rwc"
    )]
    pub database_url: String,
    /// Address to bind.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_LISTEN",
        value_name = "GATEWAY_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,
    /// HS256 shared secret (at least 32 bytes).
    #[arg(
        long,
        global = true,
        env = "GATEWAY_JWT_SECRET",
        value_name = "GATEWAY_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// PEM public key file; replaces the secret. Needs GATEWAY_JWT_ALGORITHM.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_JWT_PUBLIC_KEY",
        value_name = "GATEWAY_JWT_PUBLIC_KEY"
    )]
    pub jwt_public_key: Option<PathBuf>,
    /// RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA.
    #[arg(long, global = true, env = "GATEWAY_JWT_ALGORITHM", value_name = "GATEWAY_JWT_ALGORITHM", value_parser = parse_algorithm)]
    pub jwt_algorithm: Option<Algorithm>,
    /// Required `iss` claim.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_JWT_ISSUER",
        value_name = "GATEWAY_JWT_ISSUER"
    )]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    #[arg(
        long,
        global = true,
        env = "GATEWAY_JWT_AUDIENCE",
        value_name = "GATEWAY_JWT_AUDIENCE"
    )]
    pub jwt_audience: Option<String>,
    /// Clock-skew allowance for exp and nbf, in seconds.
    #[arg(long, global = true, env = "GATEWAY_JWT_LEEWAY_SECS", value_name = "GATEWAY_JWT_LEEWAY_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub jwt_leeway_secs: u64,

    /// Largest number of pooled database connections.
    #[arg(long, global = true, env = "GATEWAY_DB_MAX_CONNECTIONS", value_name = "GATEWAY_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,
    /// How long a request waits for a pooled connection, in milliseconds.
    #[arg(long, global = true, env = "GATEWAY_DB_ACQUIRE_TIMEOUT_MS", value_name = "GATEWAY_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub db_acquire_timeout_ms: u64,
    /// PostgreSQL statement_timeout, in milliseconds (0 turns it off).
    #[arg(long, global = true, env = "GATEWAY_DB_STATEMENT_TIMEOUT_MS", value_name = "GATEWAY_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub db_statement_timeout_ms: u64,
    /// Whether `serve` applies migrations at start (turn off when replicas share a database
    /// and `migrate` runs once per deploy).
    #[arg(long, global = true, env = "GATEWAY_MIGRATE_ON_START", value_name = "GATEWAY_MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub migrate_on_start: bool,
    /// Whether `serve` on SQLite loads the demo data set into an empty database.
    #[arg(long, global = true, env = "GATEWAY_DEMO_DATA", value_name = "GATEWAY_DEMO_DATA", default_value_t = true, action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub demo_data: bool,

    /// Serve GraphiQL at /graphiql.
    #[arg(long, global = true, env = "GATEWAY_GRAPHIQL", value_name = "GATEWAY_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub graphiql: bool,
    /// Answer introspection queries (GraphiQL needs them).
    #[arg(long, global = true, env = "GATEWAY_INTROSPECTION", value_name = "GATEWAY_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub introspection: bool,
    /// Deepest selection nesting accepted.
    #[arg(long, global = true, env = "GATEWAY_MAX_DEPTH", value_name = "GATEWAY_MAX_DEPTH", default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..=1000))]
    pub max_depth: u64,
    /// Largest document complexity (each field 1, each userSessions 50 plus its fields).
    #[arg(long, global = true, env = "GATEWAY_MAX_COMPLEXITY", value_name = "GATEWAY_MAX_COMPLEXITY", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_complexity: u64,
    /// Most aliases in one document.
    #[arg(long, global = true, env = "GATEWAY_MAX_ALIASES", value_name = "GATEWAY_MAX_ALIASES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub max_aliases: u64,
    /// Most directives on one field.
    #[arg(long, global = true, env = "GATEWAY_MAX_DIRECTIVES", value_name = "GATEWAY_MAX_DIRECTIVES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub max_directives: u64,
    /// Most lexical tokens in one document.
    #[arg(long, global = true, env = "GATEWAY_MAX_TOKENS", value_name = "GATEWAY_MAX_TOKENS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    pub max_tokens: u64,
    /// Largest request body, in bytes.
    #[arg(long, global = true, env = "GATEWAY_MAX_BODY_BYTES", value_name = "GATEWAY_MAX_BODY_BYTES", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(256..=104_857_600))]
    pub max_body_bytes: u64,
    /// Browser origins allowed to call the API cross-site (comma-separated, e.g.
    /// https://app.example.com); none when unset.
    #[arg(long, global = true, env = "GATEWAY_CORS_ORIGINS", value_name = "GATEWAY_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Longest a request may run, in milliseconds.
    #[arg(long, global = true, env = "GATEWAY_REQUEST_TIMEOUT_MS", value_name = "GATEWAY_REQUEST_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub request_timeout_ms: u64,
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false (or yes/no, on/off, 1/0)".into()),
    }
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    match text.trim() {
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EdDSA" => Ok(Algorithm::EdDSA),
        _ => Err("expected one of RS256, RS384, RS512, PS256, ES256, ES384, EdDSA".into()),
    }
}

fn parse_origin(text: &str) -> Result<axum::http::HeaderValue, String> {
    let origin = text.trim();
    let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.trim_end_matches('/').ends_with("//")
        && !origin[origin.find("//").map_or(0, |i| i + 2)..].contains('/');
    if !valid {
        return Err(format!(
            "{origin:?} is not an origin like https://app.example.com"
        ));
    }
    axum::http::HeaderValue::from_str(origin)
        .map_err(|_| format!("{origin:?} is not a valid origin"))
}

/// Ten years: longer lifetimes are mistakes, and far longer ones would overflow `exp`.
const MAX_TOKEN_TTL_SECS: u64 = 3650 * 86_400;

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let malformed = || format!("{text:?} is not a duration like 90s, 30m, 12h or 7d");
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().map_err(|_| malformed())?;
    let unit_secs: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(malformed()),
    };
    match n.checked_mul(unit_secs) {
        Some(0) => Err("the duration must be positive".into()),
        Some(secs) if secs <= MAX_TOKEN_TTL_SECS => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "{text:?} is longer than the 3650 days a token may live"
        )),
    }
}

/// A configuration problem: one line, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

/// A `GATEWAY_*` variable that no setting reads is almost always a typo of one that does;
/// refuse it rather than run with the default the operator meant to change.
fn check_environment() -> Result<(), ConfigError> {
    use clap::CommandFactory;
    let known: Vec<String> = Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("GATEWAY_") && !known.iter().any(|k| *k == name) {
            return Err(ConfigError::new(
                name.into_owned(),
                "is not a setting of sessions-gateway (see --help)",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl SettingsArgs {
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let url = self.database_url.trim();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(ConfigError::new(
                "DATABASE_URL",
                "must start with sqlite: or postgres://",
            ))
        }
    }

    /// Checks that involve several settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_environment()?;
        self.backend()?;
        if self.graphiql && !self.introspection {
            return Err(ConfigError::new(
                "GATEWAY_INTROSPECTION",
                "GraphiQL needs introspection: set GATEWAY_GRAPHIQL=false too, or leave introspection on",
            ));
        }
        match (&self.jwt_public_key, self.jwt_algorithm) {
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "GATEWAY_JWT_ALGORITHM",
                    "is required with GATEWAY_JWT_PUBLIC_KEY",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "GATEWAY_JWT_PUBLIC_KEY",
                    "is required with GATEWAY_JWT_ALGORITHM",
                ))
            }
            (Some(_), Some(_)) if self.jwt_secret.is_some() => {
                return Err(ConfigError::new(
                    "GATEWAY_JWT_SECRET",
                    "set either a secret or a public key, not both",
                ))
            }
            _ => {}
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err(ConfigError::new(
                    "GATEWAY_JWT_SECRET",
                    "must be at least 32 bytes long",
                ));
            }
        }
        for (variable, value) in [
            ("GATEWAY_JWT_ISSUER", &self.jwt_issuer),
            ("GATEWAY_JWT_AUDIENCE", &self.jwt_audience),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError::new(variable, "must not be empty when set"));
            }
        }
        Ok(())
    }

    /// The SQLite file, when the database is one (`None` for in-memory databases).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self.database_url.trim().strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() || path.starts_with(":memory:") {
            return None;
        }
        Some(PathBuf::from(path))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}
