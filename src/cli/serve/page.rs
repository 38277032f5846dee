//! `/`: the page, its script and its style, built into the binary
//! (`include_str!`): no file is read from disk and nothing is fetched from
//! elsewhere. The page asks the API what it shows, and checks each
//! statement's inclusion in the signed checkpoint itself (SHA-256 in the
//! browser, through WebCrypto).

use super::St;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use demarche::vocab::Vocabulary;
use serde_json::json;

const HTML: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/page.js");
const STYLE: &str = include_str!("page/page.css");

/// Scripts and styles from this server only; no frames, no other origins.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) fn routes() -> Router<St> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", HTML) }),
        )
        .route(
            "/page.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/page.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/words.json", get(|| async { words() }))
}

/// How the page says a proposition, from the vocabulary: each stance's and
/// predicate's label, and the words a predicate's subjects and place take
/// ("withdrawal of RUS from LBY").
fn words() -> Response {
    let v = Vocabulary::builtin();
    let predicates: serde_json::Map<String, serde_json::Value> = v
        .predicates
        .iter()
        .map(|p| {
            let (of, at) = v.words(&p.id);
            (p.id.clone(), json!({"label": p.label, "of": of, "at": at}))
        })
        .collect();
    let stances: serde_json::Map<String, serde_json::Value> = v
        .stances
        .iter()
        .map(|s| (s.id.clone(), json!(s.label)))
        .collect();
    let text = json!({"predicates": predicates, "stances": stances}).to_string();
    asset("application/json", text)
}

fn asset(kind: &'static str, body: impl IntoResponse) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}
