//! GraphQL over HTTP, as the GraphQL-over-HTTP draft says: request decoding (POST JSON, GET
//! for queries), media-type negotiation and status codes. The stock integration executes any
//! content type and answers rejections with debug text, so this layer is the gateway's own.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, ServerError, Variables};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::code_extension;
use crate::auth;
use crate::error::AppError;
use crate::startup::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
const APPLICATION_JSON: &str = "application/json; charset=utf-8";

/// The media type of the answer, which also decides status codes for request errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            Media::Json => APPLICATION_JSON,
        })
    }

    /// `None` when the client accepts neither type (406). No Accept header means
    /// `application/json`, for clients written before the draft; so does a bare wildcard.
    pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
        let Some(ranges) = crate::accept::ranges(headers) else {
            return Some(Media::Json);
        };
        if ranges.is_empty() {
            return Some(Media::Json);
        }
        let (mut gql, mut json, mut wildcard) = (0.0f32, 0.0f32, 0.0f32);
        for range in ranges {
            match range.media.as_str() {
                "application/graphql-response+json" => gql = gql.max(range.q),
                "application/json" => json = json.max(range.q),
                "*/*" | "application/*" => wildcard = wildcard.max(range.q),
                _ => {}
            }
        }
        if gql > 0.0 && gql >= json {
            Some(Media::GraphqlResponseJson)
        } else if json > 0.0 || wildcard > 0.0 {
            Some(Media::Json)
        } else {
            None
        }
    }
}

/// A refusal of the HTTP request itself: nothing was executed.
struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: String,
    allow: Option<&'static str>,
    /// The body was left unread: tell the client the connection ends here.
    close: bool,
}

impl Rejection {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
            close: false,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    fn into_response(self, media: Media) -> Response {
        let error = super::coded_error(self.message, self.code, None);
        let mut response = body_response(self.status, media, None, &[error]);
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ServerError],
}

fn body_response(
    status: StatusCode,
    media: Media,
    data: Option<&async_graphql::Value>,
    errors: &[ServerError],
) -> Response {
    let bytes = match serde_json::to_vec(&Payload { data, errors }) {
        Ok(bytes) => bytes,
        Err(err) => {
            let _ = AppError::internal(format!("serialising a GraphQL response: {err}"));
            br#"{"errors":[{"message":"Internal server error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_vec()
        }
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// The parameters of one GraphQL request, from a JSON body or a query string.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Variables,
}

fn params_from_json(body: &[u8]) -> Result<Params, Rejection> {
    match serde_json::from_slice::<UniqueObject>(body) {
        Ok(UniqueObject(map)) => params_from_map(map),
        // Only a refused body is parsed again, to say what is wrong with it.
        Err(err) => Err(Rejection::bad_request(match serde_json::from_slice::<Json>(body) {
            Err(e) => format!("The request body is not valid JSON: {e}."),
            Ok(Json::Array(_)) => {
                "Batched requests (a JSON array) are not supported: send one operation per request.".to_owned()
            }
            Ok(Json::Object(_)) => format!("The request body is not acceptable: {err}."),
            Ok(_) => "The request body must be a JSON object with a \"query\" string.".to_owned(),
        })),
    }
}

/// A JSON object whose keys are unique. serde_json keeps the last of repeated keys, while a
/// proxy or log reading the first would see another request; refuse the ambiguity instead.
struct UniqueObject(Map<String, Json>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut entries: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((key, value)) = entries.next_entry::<String, Json>()? {
                    if map.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "the key \"{key}\" appears twice"
                        )));
                    }
                    map.insert(key, value);
                }
                Ok(UniqueObject(map))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

fn params_from_map(map: Map<String, Json>) -> Result<Params, Rejection> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = Variables::default();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("query", Json::String(q)) => query = Some(q),
            ("query", _) => return Err(Rejection::bad_request("\"query\" must be a string.")),
            ("operationName", Json::String(name)) => operation_name = Some(name),
            ("operationName", Json::Null) => {}
            ("operationName", _) => {
                return Err(Rejection::bad_request(
                    "\"operationName\" must be a string or null.",
                ))
            }
            ("variables", Json::Object(vars)) => {
                variables = Variables::from_json(Json::Object(vars))
            }
            ("variables", Json::Null) => {}
            ("variables", _) => {
                return Err(Rejection::bad_request(
                    "\"variables\" must be an object or null.",
                ))
            }
            ("extensions", Json::Object(_) | Json::Null) => {}
            ("extensions", _) => {
                return Err(Rejection::bad_request(
                    "\"extensions\" must be an object or null.",
                ))
            }
            _ => {}
        }
    }
    let query =
        query.ok_or_else(|| Rejection::bad_request("The request has no \"query\" string."))?;
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_query_string(raw: Option<&str>) -> Result<Params, Rejection> {
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // The decoder replaces bytes that are not UTF-8; refuse them instead of guessing.
        if (key.contains('\u{FFFD}') || value.contains('\u{FFFD}'))
            && !raw.unwrap_or("").to_ascii_uppercase().contains("%EF%BF%BD")
        {
            return Err(Rejection::bad_request("The query string is not UTF-8."));
        }
        let value = match key.as_ref() {
            "variables" | "extensions" if !value.is_empty() => serde_json::from_str(&value)
                .map_err(|e| {
                    Rejection::bad_request(format!(
                        "The \"{key}\" parameter is not valid JSON: {e}."
                    ))
                })?,
            "variables" | "extensions" => Json::Null,
            _ => Json::String(value.into_owned()),
        };
        if map.insert(key.into_owned(), value).is_some() {
            return Err(Rejection::bad_request(
                "A query-string parameter is given more than once.",
            ));
        }
    }
    params_from_map(map)
}

/// POST bodies must be JSON (`application/json`, UTF-8). Anything a browser could send
/// without a preflight is refused here, which also closes the CSRF door.
fn check_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let unsupported = |what: &str| {
        Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("{what}: POST a JSON body with Content-Type: application/json."),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("The request has no Content-Type"));
    };
    let value = value
        .to_str()
        .map_err(|_| unsupported("The Content-Type is not readable"))?;
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(unsupported(&format!(
            "Content-Type {media:?} is not supported"
        )));
    }
    for param in parts {
        if let Some((name, charset)) = param.split_once('=') {
            if name.trim().eq_ignore_ascii_case("charset")
                && !charset
                    .trim()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("utf-8")
            {
                return Err(unsupported("Only the utf-8 charset is supported"));
            }
        }
    }
    Ok(())
}

pub async fn graphql(State(state): State<AppState>, request: Request) -> Response {
    let media = Media::negotiate(request.headers());
    let answer_media = media.unwrap_or(Media::Json);
    match handle(&state, media, request).await {
        Ok(response) => response,
        Err(rejection) => rejection.into_response(answer_media),
    }
}

async fn handle(
    state: &AppState,
    media: Option<Media>,
    request: Request,
) -> Result<Response, Rejection> {
    let (parts, body) = request.into_parts();
    // Read the body first (bounded), so that every answer, refusals included, leaves the
    // connection reusable; only an oversized body closes it.
    let bytes = if parts.method == Method::GET {
        axum::body::Bytes::new()
    } else {
        axum::body::to_bytes(body, state.limits.body_bytes)
            .await
            .map_err(|_| {
                let mut rejection = Rejection::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    format!(
                        "The request body is larger than {} bytes.",
                        state.limits.body_bytes
                    ),
                );
                rejection.close = true;
                rejection
            })?
    };
    let is_get = match parts.method {
        Method::GET => true,
        Method::POST => false,
        _ => {
            let mut rejection = Rejection::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Use POST, or GET for queries.",
            );
            rejection.allow = Some("GET, POST");
            return Err(rejection);
        }
    };
    let Some(media) = media else {
        return Err(Rejection::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "Accept application/graphql-response+json or application/json.",
        ));
    };
    // An invalid token is refused before anything else is looked at.
    let caller = match auth::authenticate(&parts.headers, &state.verifier, &state.store).await {
        Ok(caller) => caller,
        Err(err) => return Ok(app_error_response(&err, media)),
    };
    let params = if is_get {
        params_from_query_string(parts.uri.query())?
    } else {
        check_content_type(&parts.headers)?;
        params_from_json(&bytes)?
    };

    state
        .limits
        .check_tokens(&params.query)
        .map_err(|message| {
            Rejection::new(
                request_error_status(media),
                "GRAPHQL_VALIDATION_FAILED",
                message,
            )
        })?;
    let mut gql_request = async_graphql::Request::new(params.query).variables(params.variables);
    if let Some(name) = params.operation_name {
        gql_request = gql_request.operation_name(name);
    }
    let operation_name = gql_request.operation_name.clone();
    let document = match gql_request.parsed_query() {
        Ok(document) => document,
        Err(mut error) => {
            error.extensions = Some(code_extension("GRAPHQL_PARSE_FAILED"));
            return Ok(request_error(media, vec![error]));
        }
    };
    if is_get && !is_query(&document.operations, operation_name.as_deref()) {
        let mut rejection = Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Only queries may be sent with GET; use POST.",
        );
        rejection.allow = Some("POST");
        return Err(rejection);
    }
    state.limits.check_document(document).map_err(|message| {
        Rejection::new(
            request_error_status(media),
            "GRAPHQL_VALIDATION_FAILED",
            message,
        )
    })?;
    let root_keys = root_response_keys(document, operation_name.as_deref());

    let mut response = state.schema.execute(gql_request.data(caller)).await;
    if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
        // Nothing executed: the document failed validation (or named no operation).
        let mut errors = response.errors;
        for error in &mut errors {
            error
                .extensions
                .get_or_insert_with(|| code_extension("GRAPHQL_VALIDATION_FAILED"));
            if let Some(variable) = limit_behind(&error.message) {
                error.message =
                    format!("{} (limit {variable})", error.message.trim_end_matches('.'));
            }
        }
        return Ok(request_error(media, errors));
    }
    if let async_graphql::Value::Object(fields) = &mut response.data {
        order_like_document(fields, &root_keys);
    }
    Ok(body_response(
        StatusCode::OK,
        media,
        Some(&response.data),
        &response.errors,
    ))
}

/// The response keys of the operation's root selection, in document order (fragments
/// flattened). Root fields run concurrently and finish in any order, but the specification
/// orders the response as the document.
fn root_response_keys(document: &ExecutableDocument, operation_name: Option<&str>) -> Vec<Name> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return Vec::new(),
        },
        (DocumentOperations::Multiple(ops), None) => match ops.values().next() {
            Some(op) => op,
            None => return Vec::new(),
        },
    };
    let mut keys = Vec::new();
    collect_keys(
        document,
        &operation.node.selection_set.node,
        &mut keys,
        &mut Default::default(),
    );
    keys
}

/// Runs after the expansion limits (`limits.rs`), and visits each fragment once anyway.
fn collect_keys<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut Vec<Name>,
    seen: &mut std::collections::HashSet<&'a Name>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            Selection::InlineFragment(fragment) => {
                collect_keys(document, &fragment.node.selection_set.node, keys, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let (true, Some(fragment)) = (seen.insert(name), document.fragments.get(name)) {
                    collect_keys(document, &fragment.node.selection_set.node, keys, seen);
                }
            }
        }
    }
}

fn order_like_document(
    fields: &mut async_graphql::indexmap::IndexMap<Name, async_graphql::Value>,
    keys: &[Name],
) {
    if fields.len() < 2 {
        return;
    }
    fields.sort_by_cached_key(|key, _| keys.iter().position(|k| k == key).unwrap_or(usize::MAX));
}

/// A failure outside any resolver (a timeout, a panic), in the negotiated media type.
pub fn failure(headers: &HeaderMap, status: StatusCode, code: &str, message: &str) -> Response {
    let media = Media::negotiate(headers).unwrap_or(Media::Json);
    body_response(
        status,
        media,
        None,
        &[super::coded_error(message, code, None)],
    )
}

/// An error met before execution (a bad token, a failed login lookup): its status from the
/// one table in `error.rs`, a GraphQL body, and the bearer challenge for a 401.
fn app_error_response(err: &AppError, media: Media) -> Response {
    let mut response = body_response(
        err.status(),
        media,
        None,
        &[super::to_server_error(err, None)],
    );
    if err.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The setting behind one of async-graphql's limit messages, so the error names it.
fn limit_behind(message: &str) -> Option<&'static str> {
    if message.starts_with("Query is too complex") {
        Some("GATEWAY_MAX_COMPLEXITY")
    } else if message.starts_with("Query is nested too deep") {
        Some("GATEWAY_MAX_DEPTH")
    } else if message.starts_with("The number of directives on the field") {
        Some("GATEWAY_MAX_DIRECTIVES")
    } else {
        None
    }
}

/// With `application/json` a GraphQL request error is still a 200 (legacy clients read the
/// body); with `application/graphql-response+json` it is a 400.
fn request_error_status(media: Media) -> StatusCode {
    match media {
        Media::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    }
}

fn request_error(media: Media, errors: Vec<ServerError>) -> Response {
    body_response(request_error_status(media), media, None, &errors)
}

/// Whether the operation to run is a query. An unknown operation name is left for
/// validation to report.
fn is_query(operations: &DocumentOperations, name: Option<&str>) -> bool {
    let ty = match (operations, name) {
        (DocumentOperations::Single(op), _) => op.node.ty,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op.node.ty,
            None => return true,
        },
        (DocumentOperations::Multiple(ops), None) => match ops.values().next() {
            Some(op) if ops.len() == 1 => op.node.ty,
            _ => return true,
        },
    };
    ty == OperationType::Query
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            ".{0,12}".prop_map(Json::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::btree_map(
                    "query|variables|operationName|extensions|[a-z]{1,6}",
                    inner,
                    0..5
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Arbitrary bytes never panic the decoder; only an object with a string `query` passes.
        #[test]
        fn body_decoder_accepts_exactly_valid_requests(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let accepted = params_from_json(&bytes).is_ok();
            let valid = matches!(serde_json::from_slice::<Json>(&bytes), Ok(Json::Object(m)) if m.get("query").is_some_and(Json::is_string));
            prop_assert!(!accepted || valid);
        }

        #[test]
        fn body_decoder_follows_the_parameter_rules(value in json_value()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            let outcome = params_from_json(&bytes);
            let expected = match &value {
                Json::Object(m) => {
                    let typed = |key: &str, ok: fn(&Json) -> bool| m.get(key).is_none_or(ok);
                    m.get("query").is_some_and(Json::is_string)
                        && typed("operationName", |v| v.is_string() || v.is_null())
                        && typed("variables", |v| v.is_object() || v.is_null())
                        && typed("extensions", |v| v.is_object() || v.is_null())
                }
                _ => false,
            };
            prop_assert_eq!(outcome.is_ok(), expected);
            if let Err(rejection) = outcome {
                prop_assert_eq!(rejection.status, StatusCode::BAD_REQUEST);
            }
        }

        #[test]
        fn query_string_decoder_never_panics(raw in "[a-zA-Z=&%{}\\[\\]\":,0-9+ ]{0,80}") {
            if let Err(rejection) = params_from_query_string(Some(&raw)) {
                prop_assert_eq!(rejection.status, StatusCode::BAD_REQUEST);
            }
        }
    }
}
