//! `POST /api/append`: one event, as `demarche append --json` takes it, from
//! a request that carries the server's token. On sled the only way to append
//! while the server holds the ledger; on redb beside the command line.

use super::super::failure::Failure;
use super::api::{params, Params};
use super::reply::{self, ApiError};
use super::St;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use demarche::json::{self, view};
use demarche::ledger::LedgerError;

pub(super) fn routes() -> Router<St> {
    Router::new().route("/api/append", post(append))
}

/// `POST /api/append`: one event, as `append --json` takes it; answers the
/// recorded event as `append --json` prints it (201). `?allow-duplicate`
/// records an event the ledger already holds.
async fn append(
    State(st): State<St>,
    headers: HeaderMap,
    q: Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(token) = &st.token else {
        return Err(
            ApiError::new(StatusCode::FORBIDDEN, "this server takes no writes")
                .hint("start it with --token-file PATH (a file of mode 0600 holding the token)"),
        );
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !token.admits(auth) {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a write needs the server's token: Authorization: Bearer TOKEN",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return Ok(r);
    }
    let p = params(q, &["allow-duplicate"], "/api/append")?;
    let duplicate = match p.first().map(|(_, v)| v.as_str()) {
        None | Some("false" | "0") => false,
        Some("" | "true" | "1") => true,
        Some(v) => {
            return Err(ApiError::bad(format!(
                "allow-duplicate: \"{v}\" is neither true nor false"
            )))
        }
    };
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let line = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad("the body is not UTF-8 text"))?
        .trim();
    if line.is_empty() {
        return Err(ApiError::bad("the body holds no event")
            .hint("send one JSON event, as `demarche append --json` takes it"));
    }
    let event = json::parse_event(line).map_err(|e| ApiError::from(Failure::rejected(e)))?;
    st.blocking(move |sh| {
        let recorded = sh.source.write(|l| {
            let done = match duplicate {
                true => l.append_duplicate(event),
                false => l.append(event),
            };
            Ok(done.map_err(|e| match e {
                e @ LedgerError::Duplicate { .. } => {
                    let mut a = ApiError::from(Failure::from(e));
                    a.status = StatusCode::CONFLICT;
                    a.hint = Some("to record it again anyway, add ?allow-duplicate".into());
                    a
                }
                e => ApiError::from(Failure::from(e)),
            }))
        })??;
        let mut r = reply::json(format!("{}\n", view::recorded_json(&recorded)).into_bytes());
        *r.status_mut() = StatusCode::CREATED;
        Ok(r)
    })
    .await
}
