//! The Web API shim: `GET /users/{userIdentifier}/sessions` answered as the ASP.NET Web API
//! service did, plus its 404 and 405 bodies for every other path this gateway does not own.

mod body;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;

use crate::domain::UserIdentifier;
use crate::error::AppError;
use crate::startup::AppState;

/// The two media types Web API's JSON formatter offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMedia {
    ApplicationJson,
    TextJson,
}

impl JsonMedia {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            JsonMedia::ApplicationJson => "application/json; charset=utf-8",
            JsonMedia::TextJson => "text/json; charset=utf-8",
        })
    }

    /// Web API's negotiator: the Accept range with the highest quality wins, a literal type
    /// before a `text/*` or `*/*` range, then the earlier range. Ranges naming neither JSON type
    /// (`application/xml`) still get `application/json`, the JSON formatter's default.
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let mut best: Option<(f32, u8, JsonMedia)> = None;
        for range in crate::accept::ranges(headers).unwrap_or_default() {
            let (rank, media) = match range.media.as_str() {
                "application/json" => (2, JsonMedia::ApplicationJson),
                "text/json" => (2, JsonMedia::TextJson),
                "text/*" => (1, JsonMedia::TextJson),
                "application/*" => (1, JsonMedia::ApplicationJson),
                "*/*" => (0, JsonMedia::ApplicationJson),
                _ => continue,
            };
            if range.q > 0.0 && best.is_none_or(|(q, r, _)| (range.q, rank) > (q, r)) {
                best = Some((range.q, rank, media));
            }
        }
        best.map_or(JsonMedia::ApplicationJson, |(_, _, media)| media)
    }
}

/// Web API's routing was case-insensitive and ignored a trailing slash.
fn route(path: &str) -> Option<String> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut segments = path.strip_prefix('/')?.split('/');
    let (Some(users), Some(raw), Some(sessions), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return None;
    };
    if !users.eq_ignore_ascii_case("users")
        || !sessions.eq_ignore_ascii_case("sessions")
        || raw.is_empty()
    {
        return None;
    }
    Some(percent_decode(raw))
}

/// Decodes `%XX` escapes of a path segment (invalid UTF-8 is replaced, and then is a login
/// that matches nobody).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(status: StatusCode, media: JsonMedia, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, media.content_type());
    // Web API marked every API response uncacheable; clients and proxies may rely on it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    response
}

fn message(status: StatusCode, media: JsonMedia, text: &str) -> Response {
    respond(status, media, body::message(text))
}

/// Web API's 404 for a path nobody serves.
pub fn not_found(headers: &HeaderMap, uri: &Uri) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    message(
        StatusCode::NOT_FOUND,
        JsonMedia::negotiate(headers),
        &format!("No HTTP resource was found that matches the request URI 'http://{host}{path_and_query}'."),
    )
}

/// Web API's 405, with the methods the path does allow.
pub fn method_not_allowed(headers: &HeaderMap, method: &Method, allow: &'static str) -> Response {
    let mut response = message(
        StatusCode::METHOD_NOT_ALLOWED,
        JsonMedia::negotiate(headers),
        &format!("The requested resource does not support http method '{method}'."),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The generic failure body (a timeout, a panic), with `status`.
pub fn failure(headers: &HeaderMap, status: StatusCode) -> Response {
    message(
        status,
        JsonMedia::negotiate(headers),
        AppError::Internal.web_api_message(),
    )
}

pub fn error_response(err: &AppError, media: JsonMedia) -> Response {
    let mut response = message(err.status(), media, err.web_api_message());
    if err.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The fallback of the router: the legacy route, or Web API's 404/405.
pub async fn legacy(State(state): State<AppState>, request: Request) -> Response {
    let Some(raw) = route(request.uri().path()) else {
        return not_found(request.headers(), request.uri());
    };
    if request.method() != Method::GET {
        return method_not_allowed(request.headers(), request.method(), "GET");
    }
    let media = JsonMedia::negotiate(request.headers());
    let caller =
        match crate::auth::authenticate(request.headers(), &state.verifier, &state.store).await {
            Ok(caller) => caller,
            Err(err) => return error_response(&err, media),
        };
    let identifier = UserIdentifier::parse(&raw);
    match crate::sessions::user_sessions(&state.store, &caller, identifier.as_ref().map_err(|e| *e))
        .await
    {
        Ok(sessions) => respond(StatusCode::OK, media, body::sessions(&sessions)),
        Err(err) => error_response(&err, media),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_like_web_api() {
        assert_eq!(route("/users/me/sessions").as_deref(), Some("me"));
        assert_eq!(route("/Users/ana.k/SESSIONS/").as_deref(), Some("ana.k"));
        assert_eq!(route("/users/%7Bab%7D/sessions").as_deref(), Some("{ab}"));
        assert_eq!(route("/users/%20me%20/sessions").as_deref(), Some(" me "));
        assert_eq!(route("/users//sessions"), None);
        assert_eq!(route("/users/me/sessions/x"), None);
        assert_eq!(route("/users/me"), None);
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn text_json_only_when_preferred() {
        let accept = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            JsonMedia::negotiate(&h)
        };
        assert_eq!(
            JsonMedia::negotiate(&HeaderMap::new()),
            JsonMedia::ApplicationJson
        );
        assert_eq!(accept("text/json"), JsonMedia::TextJson);
        assert_eq!(
            accept("application/json;q=0.5, text/json"),
            JsonMedia::TextJson
        );
        // Web API: highest quality, then a literal type over a range, then the earlier one.
        assert_eq!(accept("text/json, application/json"), JsonMedia::TextJson);
        assert_eq!(
            accept("application/json, text/json"),
            JsonMedia::ApplicationJson
        );
        assert_eq!(
            accept("text/*, application/json"),
            JsonMedia::ApplicationJson
        );
        assert_eq!(
            accept("text/*;q=0.9, application/json;q=0.5"),
            JsonMedia::TextJson
        );
        assert_eq!(accept("text/json;q=0"), JsonMedia::ApplicationJson);
        assert_eq!(accept("application/xml"), JsonMedia::ApplicationJson);
        assert_eq!(accept("*/*"), JsonMedia::ApplicationJson);
    }
}
