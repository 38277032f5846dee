//! Writing events: `init`, `demo` and `append`.

use super::args::{AppendArgs, Cli, Output};
use super::events::log_table;
use super::failure::{Failure, Result, INTEGRITY};
use super::flags::event_named;
use super::open::{forget_if_new, ledger_path, open, open_for_write};
use super::positions::print_view;
use super::verify::{print_verify, verify_json};
use demarche::event::{Event, Recorded};
use demarche::json::{self, view};
use demarche::projection::{Position, Query};
use serde_json::{json, Value};
use std::io::Write;

/// `demarche init`.
pub(super) fn init(cli: &Cli, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    if let Some(e) = demarche::store::engine_at(&path) {
        return Err(Failure::usage(format!(
            "{} is already a ledger ({})",
            path.display(),
            e.name()
        )));
    }
    let ledger = open(cli, true)?;
    writeln!(
        out,
        "created an empty {} ledger at {}",
        ledger.store().engine().name(),
        path.display()
    )?;
    Ok(0)
}

/// `demarche demo`.
pub(super) fn demo(cli: &Cli, o: Output, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    let mut ledger = open(cli, true)?;
    let done = demarche::example::record(&mut ledger)?;
    let report = ledger.verify(None)?;
    let events: Vec<Recorded> = ledger
        .iter(1, u64::MAX)?
        .collect::<std::result::Result<_, _>>()?;
    let example = demarche::example::digests();
    let shown: Vec<&Recorded> = events
        .iter()
        .filter(|r| example.contains(&r.digest))
        .collect();
    if o.json {
        let v = json!({
            "ledger": path.display().to_string(),
            "appended": done.appended,
            "already": done.already,
            "events": shown.iter().map(|r| view::recorded_json(r)).collect::<Vec<_>>(),
            "verify": verify_json(&report),
        });
        writeln!(out, "{v}")?;
    } else {
        eprintln!(
            "ledger {}: {} example events appended, {} already recorded",
            path.display(),
            done.appended,
            done.already
        );
        writeln!(
            out,
            "The worked example: statements on foreign forces in Libya, 28-29 January 2021,"
        )?;
        writeln!(
            out,
            "and UN Security Council resolution 660 (1990), a formal demand, beside them."
        )?;
        writeln!(out)?;
        log_table(out, shown.iter().copied())?;
        writeln!(out)?;
        print_verify(out, &report, false)?;
        let query = Query {
            as_of: Some(jiff::civil::date(2021, 1, 29)),
            ..Query::default()
        };
        let ps = ledger.positions(&query)?;
        let example_seqs: std::collections::HashSet<u64> = shown.iter().map(|r| r.seq).collect();
        let ps: Vec<Position> = ps
            .into_iter()
            .filter(|p| p.statements.iter().all(|s| example_seqs.contains(s)))
            .collect();
        writeln!(
            out,
            "\nPositions as of 2021-01-29 (demarche positions --as-of 2021-01-29):\n"
        )?;
        let ps: Vec<_> = ps.iter().map(Position::view).collect();
        print_view(out, &ps, "withdrawal", ledger.actors()?)?;
        writeln!(out)?;
        print_view(out, &ps, "presence", ledger.actors()?)?;
    }
    Ok(if report.is_intact() { 0 } else { INTEGRITY })
}

/// The seq of the event a flag names (seq, HEAD, HEAD~N or a hash prefix).
fn named(cli: &Cli, which: Option<&str>) -> Result<Option<u64>> {
    let Some(which) = which else { return Ok(None) };
    if let Ok(seq) = which.parse::<u64>() {
        return Ok(Some(seq));
    }
    event_named(&open(cli, false)?, which).map(Some)
}

fn event_from_flags(
    a: &AppendArgs,
    base: Option<serde_json::Map<String, Value>>,
    (retract, correct): (Option<u64>, Option<u64>),
) -> Result<Event> {
    if let Some(of) = retract {
        let reason = a
            .reason
            .clone()
            .ok_or_else(|| Failure::usage("--retract needs --reason"))?;
        let line = json!({"type": "retraction", "of": of, "reason": reason});
        return json::parse_event(&line.to_string()).map_err(Failure::rejected);
    }
    let need = |v: &Option<String>, flag: &str| {
        v.clone().ok_or_else(|| {
            Failure::usage(format!("a statement needs --{flag}"))
                .hint("see `demarche append --help`")
        })
    };
    // A correction starts from the statement as it stands and changes only
    // what the flags give; a new statement needs the required flags.
    let mut st = match base {
        Some(m) => Value::Object(m),
        None => json!({
            "said_on": need(&a.said_on, "said-on")?,
            "party": need(&a.party, "party")?,
            "stance": need(&a.stance, "stance")?,
            "proposition": {"predicate": need(&a.predicate, "predicate")?, "subjects": a.subjects},
            "quote": need(&a.quote, "quote")?,
            "source": {},
        }),
    };
    let m = st.as_object_mut().expect("object");
    if a.speaker.is_some() || a.speaker_actor.is_some() || a.speaker_role.is_some() {
        let sp = m
            .entry("speaker")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object");
        for (k, v) in [
            ("name", &a.speaker),
            ("role", &a.speaker_role),
            ("actor", &a.speaker_actor),
        ] {
            if let Some(v) = v {
                sp.insert(k.into(), v.clone().into());
            }
        }
        if sp.get("name").is_none() && sp.get("actor").is_none() {
            return Err(Failure::usage(
                "--speaker-role needs --speaker or --speaker-actor",
            ));
        }
    }
    if !a.joint_with.is_empty() {
        m.insert("joint_with".into(), a.joint_with.clone().into());
    }
    for (k, v) in [
        ("said_on", &a.said_on),
        ("party", &a.party),
        ("stance", &a.stance),
        ("quote", &a.quote),
        ("hedge", &a.hedge),
        ("condition", &a.condition),
        ("deadline", &a.deadline),
        ("quote_kind", &a.quote_kind),
        ("language", &a.language),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    }
    let p = m["proposition"].as_object_mut().expect("an object");
    if let Some(v) = &a.predicate {
        p.insert("predicate".into(), v.clone().into());
    }
    if !a.subjects.is_empty() {
        p.insert("subjects".into(), a.subjects.clone().into());
    }
    for (k, v) in [
        ("location", &a.location),
        ("qualifier", &a.qualifier),
        ("document", &a.document),
    ] {
        if let Some(v) = v {
            p.insert(k.into(), v.clone().into());
        }
    }
    // The i-th --url, --publisher and --published-on make the i-th source;
    // given at all, they replace the sources.
    let n = a.url.len().max(a.publisher.len()).max(a.published_on.len());
    if n > 0 || !m.contains_key("sources") {
        let mut sources: Vec<Value> = vec![json!({}); n.max(1)];
        for (k, vs) in [
            ("url", &a.url),
            ("publisher", &a.publisher),
            ("published_on", &a.published_on),
        ] {
            for (i, v) in vs.iter().enumerate() {
                sources[i][k] = v.clone().into();
            }
        }
        if n > 0 || !m.contains_key("source") {
            m.remove("source");
            m.remove("sources");
            match sources.len() {
                1 => m.insert("source".into(), sources.remove(0)),
                _ => m.insert("sources".into(), sources.into()),
            };
        }
    }
    let line = match correct {
        Some(of) => {
            let mut c = json!({"type": "correction", "of": of, "statement": st});
            if let Some(r) = &a.reason {
                c["reason"] = r.clone().into();
            }
            c
        }
        None => {
            m.insert("type".into(), "statement".into());
            st
        }
    };
    json::parse_event(&line.to_string()).map_err(Failure::rejected)
}

/// The statement that `--correct SEQ` corrects, as it stands (with earlier
/// corrections applied), as the fields of a statement line.
fn standing_statement(cli: &Cli, of: u64) -> Result<serde_json::Map<String, Value>> {
    let ledger = open(cli, false)?;
    let r = ledger.get(of)?;
    let s = match &r.event {
        Some(Event::Statement(s)) => {
            let amendments = ledger.amendments_bearing_on(of)?;
            let root = amendments.roots.get(&of).copied().unwrap_or(of);
            match amendments.corrected.get(&root) {
                Some((_, c)) => c.clone(),
                None => s.clone(),
            }
        }
        Some(Event::Correction(c)) => c.statement.clone(),
        Some(e) => {
            return Err(Failure::usage(format!(
                "seq {of} is a {}; only statements and corrections can be corrected",
                e.kind()
            )))
        }
        None => return Err(Failure::usage(format!("seq {of} is redacted"))),
    };
    let mut m = view::event_json(&Event::Statement(s));
    m.remove("type");
    Ok(m)
}

/// The one event of `append --json -`: standard input, which must hold one
/// JSON value (on one line or several).
fn stdin_line() -> Result<String> {
    use std::io::Read;
    // Twice the longest line the JSON parser takes, so that it names the limit.
    let limit = 2 * demarche::json::MAX_LINE as u64;
    let mut text = String::new();
    std::io::stdin()
        .take(limit)
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format!("--json -: cannot read standard input: {e}")))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Failure::usage("--json -: standard input holds no event").hint(
            "pipe one JSON event in, for example `jq -c . event.json | demarche append --json -`",
        ));
    }
    // Several JSON values (JSON Lines) are several events: that is `import`.
    let values = serde_json::Deserializer::from_str(text)
        .into_iter::<serde::de::IgnoredAny>()
        .take_while(|v| v.is_ok())
        .count();
    if values > 1 {
        return Err(Failure::usage(format!(
            "--json -: standard input holds {values} events; append takes one"
        ))
        .hint("to append several events at once, all or nothing: `demarche import -`"));
    }
    Ok(text.to_string())
}

/// The fields of a statement line that differ between `before` and `s`.
fn changed_fields(before: &Value, s: &demarche::event::Statement) -> Vec<String> {
    let mut after = view::event_json(&Event::Statement(s.clone()));
    after.remove("type");
    let mut names: Vec<String> = after
        .iter()
        .filter(|(k, v)| before.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    // A field the edit left out.
    if let Some(b) = before.as_object() {
        names.extend(b.keys().filter(|k| !after.contains_key(*k)).cloned());
    }
    names
}

/// What `demarche amend` was asked.
pub(super) struct Amend<'a> {
    pub which: &'a str,
    pub reason: Option<&'a str>,
    pub file: Option<&'a std::path::Path>,
    pub allow_duplicate: bool,
    pub json: bool,
}

/// `demarche amend`: the statement as it stands, edited, recorded as a
/// correction of what changed.
pub(super) fn amend(cli: &Cli, a: Amend<'_>, out: &mut impl Write) -> Result<u8> {
    let of = event_named(&open(cli, false)?, a.which)?;
    let base = standing_statement(cli, of)?;
    let before = Value::Object(base.clone());
    let original = serde_json::to_string_pretty(&before).expect("JSON") + "\n";
    let (path, edited_here) = match a.file {
        Some(p) => (p.to_path_buf(), false),
        None => {
            let path = std::env::temp_dir()
                .join(format!("demarche-amend-{of}-{}.json", std::process::id()));
            std::fs::write(&path, &original)
                .map_err(|e| Failure::io(format!("cannot write {}: {e}", path.display())))?;
            run_editor(&path)?;
            (path, true)
        }
    };
    let kept = |f: Failure| -> Failure {
        let hint = format!(
            "nothing was recorded; your edit is kept in {}: fix it, then run `demarche amend {of} --file {}`",
            path.display(),
            path.display()
        );
        f.hint(hint)
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::io(format!("cannot read {}: {e}", path.display())))?;
    let forget = || {
        if edited_here {
            let _ = std::fs::remove_file(&path);
        }
    };
    if text == original {
        forget();
        eprintln!("seq {of} left as it was: nothing recorded");
        return Ok(0);
    }
    let mut edited: Value = serde_json::from_str(&text).map_err(|e| {
        kept(Failure::usage(format!(
            "the edited statement is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        )))
    })?;
    let Some(m) = edited.as_object_mut() else {
        return Err(kept(Failure::usage(
            "the edited statement is not a JSON object",
        )));
    };
    m.remove("type");
    if *m == base {
        forget();
        eprintln!("seq {of} left as it was: nothing recorded");
        return Ok(0);
    }
    let mut line = json!({"type": "correction", "of": of, "statement": edited});
    if let Some(r) = a.reason {
        line["reason"] = r.into();
    }
    let event = json::parse_event(&line.to_string()).map_err(|e| kept(Failure::rejected(e)))?;
    if let Some(s) = event.statement() {
        let names = changed_fields(&before, s);
        eprintln!(
            "correcting seq {of}: changed {}; every other field as it stands",
            names.join(", ")
        );
    }
    let done = append_one(cli, event, a.json, a.allow_duplicate, out).map_err(kept)?;
    forget();
    Ok(done)
}

/// Opens `path` in $VISUAL, else $EDITOR, else vi, and waits for it.
fn run_editor(path: &std::path::Path) -> Result<()> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string());
    // Through the shell, as git does, so that "code --wait" works.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("editor")
        .arg(path)
        .status()
        .map_err(|e| Failure::io(format!("cannot run the editor ({editor}): {e}")))?;
    if !status.success() {
        return Err(Failure::usage(format!(
            "the editor ({editor}) exited with {status}; nothing was recorded"
        ))
        .hint(format!(
            "the statement is in {}; set $VISUAL or $EDITOR to the editor you use",
            path.display()
        )));
    }
    Ok(())
}

/// `demarche append`.
pub(super) fn append(cli: &Cli, a: &AppendArgs, out: &mut impl Write) -> Result<u8> {
    let retract = named(cli, a.retract.as_deref())?;
    let correct = named(cli, a.correct.as_deref())?;
    let event = match (&a.json, correct) {
        (Some(line), _) if line == "-" => {
            let line = stdin_line()?;
            json::parse_event(&line).map_err(Failure::rejected)?
        }
        (Some(line), _) => json::parse_event(line.trim_end()).map_err(Failure::rejected)?,
        (None, Some(of)) => {
            let base = standing_statement(cli, of)?;
            let before = Value::Object(base.clone());
            let event = event_from_flags(a, Some(base), (retract, correct))?;
            if let Some(s) = event.statement() {
                let names = changed_fields(&before, s);
                eprintln!(
                    "correcting seq {of}: {}; every other field as it stands",
                    match names.is_empty() {
                        true => "nothing changed".to_string(),
                        false => format!("changed {}", names.join(", ")),
                    }
                );
            }
            event
        }
        (None, None) => event_from_flags(a, None, (retract, None))?,
    };
    append_one(cli, event, a.json.is_some(), a.allow_duplicate, out)
}

/// Appends one event, to a ledger made now if there is none (and removed again
/// if the event is refused), and prints it: as JSON, or its seq and hash.
pub(super) fn append_one(
    cli: &Cli,
    event: Event,
    as_json: bool,
    allow_duplicate: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let (mut ledger, created) = open_for_write(cli)?;
    let appended = match allow_duplicate {
        true => ledger.append_duplicate(event),
        false => ledger.append(event),
    };
    let r = match appended {
        Ok(r) => r,
        Err(e) => {
            forget_if_new(ledger, created);
            return Err(e.into());
        }
    };
    if as_json {
        writeln!(out, "{}", view::recorded_json(&r))?;
    } else {
        writeln!(out, "appended seq {} hash {}", r.seq, r.hash)?;
    }
    Ok(0)
}
