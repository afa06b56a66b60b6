//! The integration suite: every test goes through real HTTP on a database made by the real
//! migrations (SQLite always; PostgreSQL when `TEST_POSTGRES_URL` is set).

mod helpers;

mod auth_tokens;
mod browser;
mod cases;
mod first_run;
mod graphql_api;
mod import;
mod limits;
mod policy_table;
mod postgres;
mod protocol_audit;
mod rest_api;
mod schema_drift;
