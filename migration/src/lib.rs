//! Schema migrations, shared by `serve` (at start) and `migrate`.
//!
//! The DDL is written per backend on purpose: ids are canonical text with a format check on
//! SQLite and native `uuid` on PostgreSQL; instants are integer microseconds since the Unix
//! epoch (UTC) on SQLite and `timestamptz` on PostgreSQL. Both hold exactly microseconds, so the
//! two backends produce the same bytes.

pub use sea_orm_migration::prelude::*;

mod m20261203_000001_create_tables;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261203_000001_create_tables::Migration)]
    }
}
