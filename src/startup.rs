//! Building the application: database, keys, schema, router; and serving it until a signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tokio::net::TcpListener;

use crate::auth::keys::{self, Keys};
use crate::auth::TokenVerifier;
use crate::config::{Backend, SettingsArgs};
use crate::graphql::limits::RequestLimits;
use crate::graphql::{build_schema, GatewaySchema, SchemaLimits};
use crate::store::Store;
use crate::{db, demo, graphiql, graphql, rest};

/// Everything a request needs, built once.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub schema: GatewaySchema,
    pub verifier: Arc<TokenVerifier>,
    pub limits: Arc<RequestLimits>,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub store: Store,
    pub keys_issuer: Option<crate::auth::TokenIssuer>,
    pub dev_secret_file: Option<std::path::PathBuf>,
    pub demo_loaded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("loading the demo data failed: {0}")]
    Demo(#[from] crate::store::import::ImportError),
    #[error("cannot check for existing data: {0}")]
    Probe(#[from] sea_orm::DbErr),
    #[error("GATEWAY_LISTEN: cannot bind {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

impl Application {
    pub async fn build(settings: &SettingsArgs) -> Result<Self, StartError> {
        settings.validate()?;
        let keys = keys::load(settings)?;
        let connection = db::connect(settings).await?;
        if settings.migrate_on_start {
            db::migrate(settings, &connection).await?;
        }
        let store = Store::new(connection);
        let demo_loaded = settings.backend()? == Backend::Sqlite
            && settings.demo_data
            && demo::load_if_empty(&store).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartError::Bind(settings.listen, e))?;
        let Keys {
            verifier,
            issuer,
            dev_secret_file,
        } = keys;
        let router = router(settings, store.clone(), verifier);
        Ok(Self {
            listener,
            router,
            store,
            keys_issuer: issuer,
            dev_secret_file,
            demo_loaded,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

fn router(settings: &SettingsArgs, store: Store, verifier: TokenVerifier) -> Router {
    let schema_limits = SchemaLimits {
        depth: settings.max_depth as usize,
        complexity: settings.max_complexity as usize,
        recursive_depth: 32,
        directives_per_field: settings.max_directives as usize,
        introspection: settings.introspection,
    };
    let state = AppState {
        schema: build_schema(store.clone(), &schema_limits),
        store,
        verifier: Arc::new(verifier),
        limits: Arc::new(RequestLimits {
            body_bytes: settings.max_body_bytes as usize,
            tokens: settings.max_tokens as usize,
            aliases: settings.max_aliases as usize,
            expanded_fields: settings.max_complexity as usize,
            depth: settings.max_depth as usize,
        }),
    };
    let get_only = |handler: axum::routing::MethodRouter<AppState>| {
        handler.fallback(
            |method: axum::http::Method, headers: axum::http::HeaderMap| async move {
                rest::method_not_allowed(&headers, &method, "GET")
            },
        )
    };
    let mut router = Router::new()
        .route("/graphql", any(graphql::http::graphql))
        .route("/healthz", get_only(get(healthz)))
        .route("/readyz", get_only(get(readyz)));
    if settings.graphiql {
        router = router
            .route("/graphiql", get_only(get(graphiql::page)))
            .route("/graphiql/assets/{*name}", get_only(get(graphiql::asset)));
    }
    let cors = (!settings.cors_origins.is_empty()).then(|| {
        use axum::http::{header as h, Method};
        tower_http::cors::CorsLayer::new()
            .allow_origin(settings.cors_origins.clone())
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([h::AUTHORIZATION, h::CONTENT_TYPE, h::ACCEPT])
            .max_age(Duration::from_secs(600))
    });
    router
        .fallback(rest::legacy)
        .layer(tower::util::option_layer(cors))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout(),
            contain,
        ))
        .with_state(state)
}

async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready"}"#,
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(%err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"database unavailable"}"#,
            )
                .into_response()
        }
    }
}

/// Bounds every request in time and contains panics: either way the client gets the generic
/// failure of its surface, in its negotiated media type, and the cause goes to the log.
async fn contain(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    use futures_util::FutureExt;
    let graphql = request.uri().path() == "/graphql";
    // Only Accept is needed to answer a failure; keep that, not a copy of every header.
    let accept = request.headers().get(header::ACCEPT).cloned();
    let outcome = tokio::time::timeout(
        limit,
        std::panic::AssertUnwindSafe(next.run(request)).catch_unwind(),
    )
    .await;
    let (status, code, message) = match outcome {
        Ok(Ok(response)) => return response,
        Ok(Err(_)) => {
            tracing::error!(graphql, "a request handler panicked");
            let err = crate::error::AppError::Internal;
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                err.graphql_code(),
                err.graphql_message(),
            )
        }
        Err(_) => {
            tracing::error!(?limit, graphql, "request timed out");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                "The request took too long.".to_owned(),
            )
        }
    };
    let mut headers = axum::http::HeaderMap::new();
    if let Some(accept) = accept {
        headers.insert(header::ACCEPT, accept);
    }
    if graphql {
        graphql::http::failure(&headers, status, code, &message)
    } else {
        rest::failure(&headers, status)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
