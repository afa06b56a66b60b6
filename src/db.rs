//! Connecting to SQLite or PostgreSQL and applying migrations.

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, SqlxPostgresConnector, SqlxSqliteConnector,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::{Backend, ConfigError, SettingsArgs};

/// How long SQLite waits on a lock held by another connection or process.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Fixed key of the advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x5e55_1045_0001;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(DbErr),
}

/// Opens a pool. SQLite runs in WAL mode with a busy timeout and foreign keys on, so readers
/// never block the writer and a concurrent import waits instead of failing.
pub async fn connect(settings: &SettingsArgs) -> Result<DatabaseConnection, DbError> {
    let url = settings.database_url.trim();
    let acquire = Duration::from_millis(settings.db_acquire_timeout_ms);
    match settings.backend()? {
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| {
                    ConfigError::new("DATABASE_URL", format!("not a usable SQLite URL ({e})"))
                })?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            // An in-memory database lives in one connection.
            let max = if in_memory {
                1
            } else {
                settings.db_max_connections.unwrap_or(4)
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .min_connections(if in_memory { 1 } else { 0 })
                .acquire_timeout(acquire)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
        }
        Backend::Postgres => {
            let mut options = postgres_options(settings)?;
            if settings.db_statement_timeout_ms > 0 {
                options = options.options([(
                    "statement_timeout",
                    format!("{}ms", settings.db_statement_timeout_ms),
                )]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(settings.db_max_connections.unwrap_or(8))
                .acquire_timeout(acquire)
                .test_before_acquire(false)
                .connect_lazy_with(options);
            // Fail at start, with the cause, when the server is not there.
            pool.acquire().await.map_err(DbError::Connect)?;
            Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
        }
    }
}

fn postgres_options(settings: &SettingsArgs) -> Result<PgConnectOptions, ConfigError> {
    PgConnectOptions::from_str(settings.database_url.trim())
        .map(|options| options.application_name("sessions-gateway"))
        .map_err(|e| ConfigError::new("DATABASE_URL", format!("not a usable PostgreSQL URL ({e})")))
}

/// Applies pending migrations. On PostgreSQL they run on a connection of their own, without the
/// statement timeout, holding a session advisory lock: replicas that start together take turns
/// and the later ones find nothing to do, whatever the pool size.
pub async fn migrate(settings: &SettingsArgs, db: &DatabaseConnection) -> Result<(), DbError> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Migrator::up(db, None).await.map_err(DbError::Migrate);
    }
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(settings.db_acquire_timeout_ms))
        .connect_with(postgres_options(settings)?)
        .await
        .map_err(DbError::Connect)?;
    // One connection: every statement below runs in the session that holds the lock.
    let session = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
    let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})");
    session
        .execute_unprepared(&lock)
        .await
        .map_err(DbError::Migrate)?;
    let outcome = Migrator::up(&session, None).await.map_err(DbError::Migrate);
    let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})");
    let unlocked = session
        .execute_unprepared(&unlock)
        .await
        .map_err(DbError::Migrate);
    let _ = session.close().await;
    outcome.and(unlocked.map(|_| ()))
}
