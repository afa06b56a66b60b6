//! sessions-gateway: a GraphQL API and the legacy `GET /users/{userIdentifier}/sessions` Web
//! API, over one use-case, one authorization policy and one store.

mod accept;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
mod graphiql;
pub mod graphql;
pub mod rest;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod telemetry;
