//! What the server answers: bodies with their types and cache headers, and
//! failures as JSON (`{"error", "hint"}`) with a status that says whose
//! fault they are.

use super::super::failure::{Failure, INTEGRITY, USAGE};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A request that failed: its status, message and hint.
#[derive(Debug)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub hint: Option<String>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            hint: None,
        }
    }

    /// A bad request (400).
    pub(super) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// Nothing at this path (404).
    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> ApiError {
        self.hint = Some(hint.into());
        self
    }
}

impl From<Failure> for ApiError {
    /// Bad input is the client's (400); a chain that does not verify (500)
    /// and a store that fails or is busy (503) are the server's.
    fn from(f: Failure) -> ApiError {
        let status = match f.code {
            USAGE => StatusCode::BAD_REQUEST,
            INTEGRITY => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            message: f.message,
            hint: f.hint,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.message, "hint": self.hint});
        let mut r = (self.status, format!("{body}\n")).into_response();
        set(&mut r, header::CONTENT_TYPE, "application/json");
        set(&mut r, header::CACHE_CONTROL, "no-store");
        r
    }
}

/// A body of `content_type`, with `cache` as its Cache-Control.
pub(super) fn body(content_type: &'static str, cache: &'static str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    set(&mut r, header::CONTENT_TYPE, content_type);
    set(&mut r, header::CACHE_CONTROL, cache);
    r
}

/// JSON of the ledger as it is now: never cached for long.
pub(super) fn json(text: Vec<u8>) -> Response {
    body("application/json", "no-cache", text)
}

fn set(r: &mut Response, name: header::HeaderName, value: &'static str) {
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}
