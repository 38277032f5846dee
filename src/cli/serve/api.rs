//! `/api/...`: the commands' answers over HTTP.
//!
//! A question is asked with the command's own flags as query parameters
//! (`?as-of=2021-01-29&party=RUS`), checked against the parameters its route
//! takes (anything else is a 400 naming it), then read by the command line's
//! own parser and answered by the command's own code on the ledger: the JSON
//! is the command's `--json`, field for field, as an array of its lines (an
//! object for `show`).

use super::super::args::{ActorCommand, Cli, Command, Deferred, GraphArgs, ShowArgs, TimelineArgs};
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
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use clap::Parser;
use demarche::evidence;
use demarche::json::view;
use demarche::ledger::{b64, Ledger};
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
}

pub(super) type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query's parameters, each one a parameter `takes` names.
pub(super) fn params(
    q: Params,
    takes: &[&str],
    path: &str,
) -> Result<Vec<(String, String)>, ApiError> {
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
        Command::Show(Deferred(ShowArgs { seq, out: o })) => {
            show_on(l, seq, *o, &mut out)?;
            reply::json(out)
        }
        Command::Graph(Deferred(GraphArgs {
            query,
            view,
            format,
            labels,
            max_nodes,
            ..
        })) => {
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
        Command::Timeline(Deferred(TimelineArgs {
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
        })) => {
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
        Command::Actor(Deferred(ActorCommand::List { kind, out: o })) => {
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
pub(super) fn number(params: &[(String, String)], name: &str) -> Result<Option<u64>, ApiError> {
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
