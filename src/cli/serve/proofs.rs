//! `/api/proofs/...`: RFC 6962 inclusion and consistency proofs, as `prove
//! --json` gives them, each checked against the stored tree's root before it
//! is served (a reader checks them against the signed checkpoint).

use super::super::failure::Failure;
use super::super::proofs::Inclusion;
use super::api::{number, params, Params};
use super::reply::{self, ApiError};
use super::St;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use demarche::ledger::b64;
use demarche::merkle;
use serde_json::json;

pub(super) fn routes() -> Router<St> {
    Router::new()
        .route("/api/proofs/inclusion", get(inclusion))
        .route("/api/proofs/consistency", get(consistency))
}

/// `/api/proofs/inclusion?seq=N[&size=M]`: as `prove N --json`, in the tree
/// of the ledger now or of `size` records.
async fn inclusion(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    let p = params(q, &["seq", "size"], "/api/proofs/inclusion")?;
    let seq = number(&p, "seq")?.ok_or_else(|| ApiError::bad("seq is needed"))?;
    let size = number(&p, "size")?;
    st.blocking(move |sh| {
        let v = sh.source.read(|l| {
            let (now, _) = l.tree_head()?;
            let size = size.unwrap_or(now);
            if size > now {
                return Err(Failure::usage(format!(
                    "size {size}: the tree holds {now} records"
                )));
            }
            Ok(Inclusion::checked(l, seq, size)?.json())
        })?;
        Ok(reply::json(format!("{v}\n").into_bytes()))
    })
    .await
}

fn damaged_tree(why: &str) -> Failure {
    Failure::integrity(format!(
        "the stored Merkle tree gives a proof that does not verify: {why}"
    ))
    .hint("run `demarche verify`")
}

/// `/api/proofs/consistency?old=M[&new=N]`: an RFC 6962 consistency proof
/// from the tree of `old` records to the tree of `new` (the ledger now).
async fn consistency(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    let p = params(q, &["old", "new"], "/api/proofs/consistency")?;
    let old = number(&p, "old")?.ok_or_else(|| ApiError::bad("old is needed"))?;
    let new = number(&p, "new")?;
    st.blocking(move |sh| {
        let v = sh.source.read(|l| {
            let (now, _) = l.tree_head()?;
            let new = new.unwrap_or(now);
            if new > now || old == 0 || old > new {
                return Err(Failure::usage(format!(
                    "old {old}, new {new}: give 1 <= old <= new <= {now}, the records the tree holds"
                )));
            }
            let old_root = l.tree_root(old)?;
            let new_root = l.tree_root(new)?;
            let proof = match old == new {
                true => Vec::new(),
                false => l.consistency_proof(old, new)?,
            };
            if old < new {
                merkle::verify_consistency(old, new, &old_root, &new_root, &proof)
                    .map_err(|e| damaged_tree(&e.to_string()))?;
            }
            Ok(json!({
                "old_size": old,
                "new_size": new,
                "old_root": b64(&old_root),
                "new_root": b64(&new_root),
                "proof": proof.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            }))
        })?;
        Ok(reply::json(format!("{v}\n").into_bytes()))
    })
    .await
}
