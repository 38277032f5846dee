//! `demarche serve`: the ledger over HTTP.
//!
//! | module | what it holds |
//! |---|---|
//! | `source` | the ledger as requests read and write it (per engine), the signed checkpoint, the token |
//! | `tiles` | `/checkpoint` and `/tile/...`: the C2SP tlog-tiles of the ledger as it is now |
//! | `api` | `/api/...`: the commands' `--json` answers, a record, the head, the checkpoint |
//! | `proofs` | `/api/proofs/...`: inclusion and consistency proofs, checked before they are served |
//! | `append` | `POST /api/append`: one event, with the token |
//! | `page` | `/`: the page, its script and its style, built into the binary |
//! | `reply` | bodies, cache headers, and failures as JSON |
//!
//! The server is safe by default: it binds loopback unless told otherwise,
//! bounds bodies and time, serves nothing from disk but the ledger (tile paths
//! are parsed strictly), and takes writes only with a bearer token.

mod api;
mod append;
mod page;
mod proofs;
mod reply;
mod source;
mod tiles;

use super::args::{Cli, ServeArgs};
use super::failure::{Failure, Result};
use super::open::Opener;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use reply::ApiError;
use source::{Signer, Source, Standing, Token};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body taken: an event line is at most 64 KiB.
const MAX_BODY: usize = 1 << 20;

/// The longest a request may take.
const MAX_TIME: Duration = Duration::from_secs(30);

/// Requests working on the ledger at once; others queue (within their time).
const AT_ONCE: usize = 16;

/// What every request shares.
struct Shared {
    source: Source,
    signer: Option<Signer>,
    token: Option<Token>,
    standing: Standing,
    work: Arc<tokio::sync::Semaphore>,
}

type St = Arc<Shared>;

impl Shared {
    /// Runs `f` on a thread that may block (the ledger's reads and writes
    /// do), one of at most `AT_ONCE`.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Shared) -> std::result::Result<T, ApiError> + Send + 'static,
    ) -> std::result::Result<T, ApiError> {
        // The permit goes with the work: a request that runs out of time
        // leaves its thread to finish, and counts until it has.
        let permit = self
            .work
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let done = f(&me);
            drop(permit);
            done
        })
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request failed inside the server",
            ))
        })
    }
}

/// `demarche serve`.
pub(super) fn serve(cli: &Cli, a: &ServeArgs) -> Result<u8> {
    let addr: SocketAddr = a.addr.parse().map_err(|_| {
        Failure::usage(format!("--addr: \"{}\" is not HOST:PORT", a.addr))
            .hint("for example --addr 127.0.0.1:8080 (port 0: any free port)")
    })?;
    let signer = a.sign.as_deref().map(Signer::read).transpose()?;
    let token = a.token_file.as_deref().map(Token::read).transpose()?;
    let opener = Opener::new(cli)?;
    let path = opener.path().display().to_string();
    let source = Source::new(opener)?;
    let shared = Arc::new(Shared {
        source,
        signer,
        token,
        standing: Standing::default(),
        work: Arc::new(tokio::sync::Semaphore::new(AT_ONCE)),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::io(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::io(format!("cannot listen on {addr}: {e}")))?;
        eprintln!(
            "serving {path} ({}{}{}) at http://{bound}/",
            shared.source.engine(),
            match &shared.signer {
                Some(_) => ", checkpoints signed",
                None => ", no signing key",
            },
            match &shared.token {
                Some(_) => ", appends with the token",
                None => ", read only",
            },
        );
        axum::serve(listener, router(shared))
            .with_graceful_shutdown(stopped())
            .await
            .map_err(|e| Failure::io(format!("the server failed: {e}")))
    })?;
    eprintln!("stopped");
    Ok(0)
}

/// Every route; anything else is a 404 in JSON.
fn router(shared: St) -> Router {
    Router::new()
        .merge(page::routes())
        .merge(tiles::routes())
        .merge(api::routes())
        .merge(proofs::routes())
        .merge(append::routes())
        .fallback(|| async { ApiError::not_found("no such path") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(bounded))
        .with_state(shared)
}

/// Ends a request that takes longer than `MAX_TIME` with a 503.
async fn bounded(request: Request, next: Next) -> Response {
    match tokio::time::timeout(MAX_TIME, next.run(request)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s", MAX_TIME.as_secs()),
        )
        .hint("narrow the question (a party, a predicate, a date)")
        .into_response(),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() {
    let int = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = int => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    let _ = int.await;
    eprintln!("stopping: answering the requests under way");
}
