//! `/api/...`: the commands' answers over HTTP.
//!
//! A question is asked with the command's own flags as query parameters
//! (`?as-of=2021-01-29&party=RUS`), checked against the parameters its route
//! takes (anything else is a 400 naming it), then read by the command line's
//! own parser and answered by the command's own code on the ledger: the JSON
//! is the command's `--json`, field for field, as an array of its lines (an
//! object for `show`). Proofs are checked before they are served, as `prove`
//! checks them.

use super::super::args::{ActorCommand, Cli, Command};
use super::super::events::{
    history_on, json_with_status, log_on, show_on, status_of, SelectionFlags,
};
use super::super::failure::Failure;
use super::super::pictures::{graph_on, timeline_on, Look};
use super::super::positions::{diff_on, positions_on};
use super::super::verify::head_json;
use super::super::vocab::actor_list_on;
use super::reply::{self, ApiError};
use super::St;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use demarche::evidence;
use demarche::json::{self, view};
use demarche::ledger::{b64, Ledger, LedgerError};
use demarche::merkle;
use serde_json::json;

/// The most events `/api/log` lists in one answer; `limit` defaults to
/// `LOG_PAGE` (page on with `since`).
const MAX_LOG: usize = 100_000;
const LOG_PAGE: usize = 1_000;

/// Parameters that take no value (`?no-members`, or `=true`/`=false`).
const SWITCHES: [&str; 2] = ["no-members", "with-members"];

/// The selection every positions question takes.
const SELECTION: [&str; 9] = [
    "party",
    "stance",
    "predicate",
    "subject",
    "location",
    "no-members",
    "with-members",
    "coded-by",
    "min-mentions",
];

/// A route answered by a command: its name, the parameters it takes, and
/// whether `--json` is added.
struct Asked {
    command: &'static str,
    path: &'static str,
    takes: Vec<&'static str>,
    json: bool,
}

fn asked(command: &'static str, own: &[&'static str], selection: bool, json: bool) -> Asked {
    let mut takes = own.to_vec();
    if selection {
        takes.extend(SELECTION);
    }
    Asked {
        command,
        path: "",
        takes,
        json,
    }
}

fn positions_asked() -> Asked {
    asked("positions", &["as-of", "known-at", "view"], true, true)
}
fn diff_asked() -> Asked {
    asked("diff", &["from", "to", "known-at"], true, true)
}
fn history_asked() -> Asked {
    let own = [
        "party",
        "speaker",
        "predicate",
        "subject",
        "location",
        "from",
        "to",
        "no-members",
        "with-members",
    ];
    asked("history", &own, false, true)
}
fn log_asked() -> Asked {
    let own = ["speaker", "search", "type", "from", "to", "since", "limit"];
    asked("log", &own, true, true)
}
fn show_asked() -> Asked {
    asked("show", &["seq"], false, true)
}
fn graph_asked() -> Asked {
    let own = ["as-of", "known-at", "view", "format", "labels", "max-nodes"];
    asked("graph", &own, true, false)
}
fn actors_asked() -> Asked {
    Asked {
        path: "/api/actors",
        ..asked("actor list", &["kind"], false, true)
    }
}
fn timeline_asked() -> Asked {
    let own = ["from", "to", "as-of", "lanes", "labels"];
    asked("timeline", &own, true, false)
}

pub(super) fn routes() -> Router<St> {
    Router::new()
        .route(
            "/api/positions",
            get(|s, q| command(s, q, positions_asked())),
        )
        .route("/api/diff", get(|s, q| command(s, q, diff_asked())))
        .route("/api/history", get(|s, q| command(s, q, history_asked())))
        .route("/api/log", get(|s, q| command(s, q, log_asked())))
        .route("/api/show", get(|s, q| command(s, q, show_asked())))
        .route("/api/graph", get(|s, q| command(s, q, graph_asked())))
        .route("/api/timeline", get(|s, q| command(s, q, timeline_asked())))
        .route("/api/actors", get(|s, q| command(s, q, actors_asked())))
        .route("/api/record", get(record))
        .route("/api/head", get(head))
        .route("/api/checkpoint", get(checkpoint))
        .route("/api/key", get(key))
        .route("/api/proofs/inclusion", get(inclusion))
        .route("/api/proofs/consistency", get(consistency))
        .route("/api/append", post(append))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query's parameters, each one a parameter `takes` names.
fn params(q: Params, takes: &[&str], path: &str) -> Result<Vec<(String, String)>, ApiError> {
    let Query(params) = q.map_err(|e| ApiError::bad(format!("the query string: {e}")))?;
    for (k, _) in &params {
        if !takes.contains(&k.as_str()) {
            let hint = match takes.is_empty() {
                true => format!("{path} takes no parameters"),
                false => format!("{path} takes {}", takes.join(", ")),
            };
            return Err(ApiError::bad(format!("unknown parameter \"{k}\"")).hint(hint));
        }
    }
    Ok(params)
}

/// The command line a question stands for, read by the command line's parser:
/// `demarche COMMAND [--json] --NAME=VALUE...` (a value after `=` is never
/// read as a flag).
fn command_line(a: &Asked, params: &[(String, String)]) -> Result<Cli, ApiError> {
    let mut argv = vec!["demarche".to_string()];
    argv.extend(a.command.split(' ').map(str::to_string));
    if a.json {
        argv.push("--json".into());
    }
    let mut positional = Vec::new();
    for (k, v) in params {
        if a.command == "show" && k == "seq" {
            positional.push(v.clone());
        } else if SWITCHES.contains(&k.as_str()) {
            match v.as_str() {
                "" | "true" | "1" => argv.push(format!("--{k}")),
                "false" | "0" => {}
                _ => {
                    return Err(ApiError::bad(format!(
                        "{k}: \"{v}\" is neither true nor false"
                    )))
                }
            }
        } else {
            argv.push(format!("--{k}={v}"));
        }
    }
    if a.command == "log" && !params.iter().any(|(k, _)| k == "limit") {
        argv.push(format!("--limit={LOG_PAGE}"));
    }
    if !positional.is_empty() {
        argv.push("--".into());
        argv.extend(positional);
    }
    Cli::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        let message: Vec<&str> = text
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let message = message.join(" ");
        ApiError::bad(
            message
                .strip_prefix("error: ")
                .unwrap_or(&message)
                .to_string(),
        )
    })
}

/// A route answered by a command.
async fn command(State(st): State<St>, q: Params, a: Asked) -> Result<Response, ApiError> {
    let path = match a.path {
        "" => format!("/api/{}", a.command),
        p => p.to_string(),
    };
    let params = params(q, &a.takes, &path)?;
    let cli = command_line(&a, &params)?;
    st.blocking(move |sh| Ok(sh.source.read(|l| answer(l, &cli.command))?))
        .await
}

/// Lines of JSON as one array.
fn array(lines: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.len() + 2);
    out.push(b'[');
    for (i, line) in lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"]\n");
    out
}

/// The command's answer on the ledger.
fn answer(l: &Ledger, command: &Command) -> Result<Response, Failure> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let lines = |out: Vec<u8>| reply::json(array(&out));
    Ok(match command {
        Command::Positions(a) => {
            positions_on(l, a, &mut out)?;
            lines(out)
        }
        Command::Diff(a) => {
            diff_on(l, a, &mut out)?;
            lines(out)
        }
        Command::History(a) => {
            history_on(l, a, &mut out)?;
            lines(out)
        }
        Command::Log(a) => {
            if a.limit.is_some_and(|n| n > MAX_LOG) {
                return Err(Failure::usage(format!(
                    "limit: at most {MAX_LOG} events in one answer"
                ))
                .hint("page with since=SEQ"));
            }
            log_on(l, a, &mut out)?;
            lines(out)
        }
        Command::Show { seq, out: o } => {
            show_on(l, seq, *o, &mut out)?;
            reply::json(out)
        }
        Command::Graph {
            query,
            view,
            format,
            labels,
            max_nodes,
            ..
        } => {
            let look = Look {
                labels: *labels,
                max_nodes: *max_nodes,
                output: None,
                force: false,
            };
            let text = graph_on(l, query, view.as_deref(), format, &look, &mut notes)?;
            let kind = match format.as_str() {
                "json" => "application/json",
                "dot" => "text/vnd.graphviz; charset=utf-8",
                _ => "image/svg+xml",
            };
            reply::body(kind, "no-cache", text.into_bytes())
        }
        Command::Timeline {
            party,
            subject,
            location,
            predicate,
            stance,
            coder,
            from,
            to,
            as_of,
            lanes,
            labels,
            members,
            ..
        } => {
            let flags = SelectionFlags {
                party: party.as_deref(),
                subject: subject.as_deref(),
                location: location.as_deref(),
                predicate: predicate.as_deref(),
                stance: stance.as_deref(),
                from: from.as_deref(),
                to: as_of.as_deref().or(to.as_deref()),
                no_members: members.no_members,
                coded_by: coder.coded_by.as_deref(),
                min_mentions: coder.min_mentions,
                ..SelectionFlags::default()
            };
            let look = Look {
                labels: *labels,
                max_nodes: 0,
                output: None,
                force: false,
            };
            let svg = timeline_on(l, &flags, lanes, &look, &mut notes)?;
            reply::body("image/svg+xml", "no-cache", svg.into_bytes())
        }
        Command::Actor(ActorCommand::List { kind, out: o }) => {
            actor_list_on(l, kind.as_deref(), *o, &mut out)?;
            lines(out)
        }
        _ => return Err(Failure::usage("not a question the API answers")),
    })
}

/// `/api/record?seq=N`: a statement or correction as `show N --json` gives it
/// (with `status`, `corrected_by`, `retracted_by`), from one read and the
/// chain's amendments, which are read once per head; other events without
/// what `show` says of their retirement.
async fn record(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    let p = params(q, &["seq"], "/api/record")?;
    let seq = number(&p, "seq")?.ok_or_else(|| ApiError::bad("seq is needed"))?;
    st.blocking(move |sh| {
        let v = sh.source.read(|l| {
            let r = l.get(seq)?;
            Ok(match r.event.as_ref().and_then(|e| e.statement()) {
                Some(_) => {
                    let am = sh.standing.of(l)?;
                    json_with_status(&r, status_of(&r, &am))
                }
                None => view::recorded_json(&r),
            })
        })?;
        Ok(reply::json(format!("{v}\n").into_bytes()))
    })
    .await
}

/// `/api/head`: as `head --json`.
async fn head(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    params(q, &[], "/api/head")?;
    st.blocking(|sh| {
        let h = sh.source.read(|l| Ok(l.head()?))?;
        Ok(reply::json(format!("{}\n", head_json(&h)).into_bytes()))
    })
    .await
}

/// `/api/checkpoint`: as `checkpoint --json` (`--sign` when the server signs):
/// origin, size, root, head and the note.
async fn checkpoint(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    params(q, &[], "/api/checkpoint")?;
    st.blocking(|sh| {
        let v = sh.source.read(|l| {
            Ok(match &sh.signer {
                Some(signer) => {
                    let s = signer.signed(l)?;
                    let cp = &s.checkpoint;
                    json!({"origin": cp.origin, "size": cp.size, "root": b64(&cp.root), "head": head_json(&s.head), "note": s.note})
                }
                None => {
                    let cp = evidence::checkpoint(l)?;
                    json!({"origin": cp.origin, "size": cp.size, "root": b64(&cp.root), "head": head_json(&l.head()?), "note": cp.to_text()})
                }
            })
        })?;
        Ok(reply::json(format!("{v}\n").into_bytes()))
    })
    .await
}

/// `/api/key`: the verifier key of the server's checkpoints, as text.
async fn key(State(st): State<St>, q: Params) -> Result<Response, ApiError> {
    params(q, &[], "/api/key")?;
    match &st.signer {
        Some(s) => Ok(reply::body(
            "text/plain; charset=utf-8",
            "no-cache",
            format!("{}\n", s.verifier()).into_bytes(),
        )),
        None => Err(ApiError::not_found("this server signs no checkpoint")
            .hint("start it with --sign PREFIX.key")),
    }
}

/// A whole number parameter.
fn number(params: &[(String, String)], name: &str) -> Result<Option<u64>, ApiError> {
    let mut found = None;
    for (k, v) in params.iter().filter(|(k, _)| k == name) {
        if found.is_some() {
            return Err(ApiError::bad(format!("{k} is given twice")));
        }
        found = Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad(format!("{k}: \"{v}\" is not a whole number")))?,
        );
    }
    Ok(found)
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
            if seq == 0 || seq > size {
                return Err(Failure::usage(format!(
                    "seq {seq} is not in the tree of {size} records"
                )));
            }
            let record = l.get(seq)?;
            let proof = l.inclusion_proof(seq, size)?;
            let root = l.tree_root(size)?;
            let leaf = demarche::tree::leaf(&record.hash);
            merkle::verify_inclusion(&leaf, seq - 1, size, &proof, &root)
                .map_err(|e| damaged_tree(&e.to_string()))?;
            Ok(json!({
                "seq": seq,
                "leaf_index": seq - 1,
                "tree_size": size,
                "chain_hash": record.hash.to_hex(),
                "leaf_hash": b64(&leaf),
                "root": b64(&root),
                "proof": proof.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            }))
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
