//! `/checkpoint` and `/tile/...`: the ledger as a C2SP tlog-tiles tree, made
//! from the ledger as it is now (`tlog::live_tile`, `tlog::live_bundle`).
//!
//! Paths are read by `tlog::parse_path` from the request's path as it came
//! (never decoded: `%2e%2e` is no digit), so nothing but a tile or a bundle
//! of the ledger is ever answered. Full tiles never change and are cached for
//! a year; partial ones briefly, as they are replaced when the tile fills;
//! the checkpoint for a few seconds.

use super::reply::{body, ApiError};
use super::St;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use demarche::tlog::{self, Resource};

const CHECKPOINT_TYPE: &str = "text/plain; charset=utf-8";
const TILE_TYPE: &str = "application/octet-stream";
const CHECKPOINT_CACHE: &str = "no-cache, max-age=5";
const FULL_CACHE: &str = "public, max-age=31536000, immutable";
const PARTIAL_CACHE: &str = "public, max-age=10";

pub(super) fn routes() -> Router<St> {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*rest}", get(tile))
}

/// The checkpoint, signed: 404 when the server has no key.
async fn checkpoint(State(st): State<St>) -> Result<Response, ApiError> {
    let note = st
        .blocking(|sh| {
            let Some(signer) = &sh.signer else {
                return Err(ApiError::not_found("this server signs no checkpoint")
                    .hint("start it with --sign PREFIX.key (from `demarche key generate`)"));
            };
            Ok(sh.source.read(|l| signer.signed(l))?.note.clone())
        })
        .await?;
    Ok(body(CHECKPOINT_TYPE, CHECKPOINT_CACHE, note.into_bytes()))
}

/// A hash tile or an entry bundle.
async fn tile(State(st): State<St>, uri: Uri) -> Result<Response, ApiError> {
    let path = uri.path().strip_prefix('/').unwrap_or_default();
    let what = match tlog::parse_path(path) {
        Some(r @ (Resource::Tile(..) | Resource::Entries(..))) => r,
        _ => return Err(ApiError::not_found("no such tile")),
    };
    let width = match what {
        Resource::Tile(_, _, w) | Resource::Entries(_, w) => w,
        Resource::Checkpoint => unreachable!("matched above"),
    };
    let bytes = st
        .blocking(move |sh| {
            let found = sh.source.read(|l| {
                Ok(match what {
                    Resource::Tile(level, n, w) => tlog::live_tile(l, level, n, w)?,
                    Resource::Entries(n, w) => tlog::live_bundle(l, n, w)?,
                    Resource::Checkpoint => None,
                })
            })?;
            found.ok_or_else(|| ApiError::not_found("the tree has no such tile (yet)"))
        })
        .await?;
    let cache = if width == tlog::WIDTH {
        FULL_CACHE
    } else {
        PARTIAL_CACHE
    };
    Ok(body(TILE_TYPE, cache, bytes))
}
