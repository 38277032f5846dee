//! `demarche witness serve`: the tlog-witness protocol over HTTP (axum on
//! tokio). Thin: the body is read within a size and a time limit, then
//! `demarche::witness::add_checkpoint` decides, under one lock with the
//! state directory, and its cosignature is kept before it is sent.

use super::{now, StateDir};
use crate::cli::failure::{Failure, Result};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use demarche::witness::{self, Witness, MAX_REQUEST};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a client may take to send its request body.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take once read (signature checks, the state
/// file written and synced).
const WORK_TIMEOUT: Duration = Duration::from_secs(30);

struct Shared {
    witness: Witness,
    state: StateDir,
    /// Held from reading an origin's state to keeping the new one, so that
    /// two requests never both cosign from the same old size.
    lock: Mutex<()>,
}

/// Runs the server until Ctrl-C.
pub(super) fn serve(witness: Witness, state: StateDir, addr: SocketAddr) -> Result<u8> {
    // The clock is read before serving, so that a bad DEMARCHE_NOW is a usage error.
    now()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::io(format!("cannot listen on {addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| Failure::io(format!("cannot listen on {addr}: {e}")))?;
        eprintln!(
            "witness {} listening on http://{local}/add-checkpoint (state in {})",
            witness.signer.name(),
            state.dir.display()
        );
        if !local.ip().is_loopback() {
            eprintln!("note: {local} is not a loopback address: anyone who reaches it can submit checkpoints");
        }
        let shared = Arc::new(Shared {
            witness,
            state,
            lock: Mutex::new(()),
        });
        let app = Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .with_state(shared);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Failure::io(format!("the server failed: {e}")))?;
        log(format_args!("witness stopped"));
        Ok(0)
    })
}

/// A line on stderr, where the server says what it does; a closed stderr
/// does not stop it.
fn log(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// `POST /add-checkpoint`.
async fn add_checkpoint(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    let bytes =
        match tokio::time::timeout(READ_TIMEOUT, axum::body::to_bytes(body, MAX_REQUEST)).await {
            Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "the request took too long\n"),
            Ok(Err(_)) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request is larger than {MAX_REQUEST} bytes, or was cut\n"),
                )
            }
            Ok(Ok(b)) => b,
        };
    let work = tokio::task::spawn_blocking(move || {
        let _held = shared.lock.lock().unwrap_or_else(|p| p.into_inner());
        // Another witness process on the same directory waits too.
        let _locked = match shared.state.lock() {
            Ok(f) => f,
            Err(e) => {
                log(format_args!("error: cannot lock the witness's state: {e}"));
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the witness cannot lock its state\n",
                );
            }
        };
        let now = match now() {
            Ok(t) => t,
            Err(f) => return text(StatusCode::INTERNAL_SERVER_ERROR, f.message + "\n"),
        };
        let reply = witness::add_checkpoint(
            &bytes,
            &shared.witness,
            |origin| shared.state.load(&shared.witness, origin),
            now,
        );
        if let Some(c) = &reply.cosigned {
            if let Err(e) = shared.state.save(&c.checkpoint.origin, &c.note) {
                log(format_args!(
                    "error: cannot keep the state of {}: {e}",
                    c.checkpoint.origin
                ));
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the witness cannot keep its state\n",
                );
            }
            log(format_args!(
                "cosigned {} at {} records",
                c.checkpoint.origin, c.checkpoint.size
            ));
        }
        let status =
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, reply.content_type)],
            reply.body,
        )
            .into_response()
    });
    match tokio::time::timeout(WORK_TIMEOUT, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => text(StatusCode::INTERNAL_SERVER_ERROR, "the witness failed\n"),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "the witness is busy\n"),
    }
}
