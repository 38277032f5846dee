//! The words statements are written in: `vocab` (stances, predicates and their
//! CAMEO and PLOVER codes) and `actor` (add, alias, list, show).

use super::args::{ActorCommand, Cli, Output};
use super::failure::{Failure, Result};
use super::open::{open, open_or_starter};
use super::record::append_one;
use demarche::event::Event;
use demarche::json::{self, view};
use demarche::ledger::Ledger;
use demarche::vocab::{Requirement, Retired, Vocabulary};
use serde_json::{json, Value};
use std::io::Write;

/// `demarche vocab`: every (stance, predicate) pair with its CAMEO and PLOVER
/// codes; as text, the stances, predicates and qualifiers first.
pub(super) fn vocab(o: Output, out: &mut impl Write) -> Result<u8> {
    let v = Vocabulary::builtin();
    if !o.json {
        writeln!(
            out,
            "Stances (vocabulary {}, mapping {}):",
            v.version, v.mapping_version
        )?;
        writeln!(
            out,
            "  {:<17} {:<11} {:<10} what it means",
            "stance", "modality", "kind"
        )?;
        for s in &v.stances {
            let also = match s.synonyms.is_empty() {
                true => String::new(),
                false => format!(" (also: {})", s.synonyms.join(", ")),
            };
            writeln!(
                out,
                "  {:<17} {:<11} {:<10} {}{also}",
                s.id, s.modality, s.kind, s.description
            )?;
        }
        writeln!(out, "\nPredicates:")?;
        for p in &v.predicates {
            let needs: Vec<&str> = p
                .requires
                .iter()
                .map(|r| match r {
                    Requirement::Subjects => "subjects",
                    Requirement::Location => "a location",
                    Requirement::Document => "a document",
                })
                .collect();
            let needs = match needs.is_empty() {
                true => String::new(),
                false => format!(" (needs {})", needs.join(" and ")),
            };
            writeln!(out, "  {:<21} {}{needs}", p.id, p.description)?;
        }
        writeln!(
            out,
            "\nQualifiers (narrow a predicate: --qualifier, or the proposition's \"qualifier\"):"
        )?;
        for q in &v.qualifiers {
            let also = match q.aliases.is_empty() {
                true => String::new(),
                false => format!(" (also: {})", q.aliases.join(", ")),
            };
            writeln!(out, "  {:<21} {}{also}", q.id, q.label)?;
            writeln!(out, "  {:<21} for {}", "", q.predicates.join(", "))?;
        }
        writeln!(
            out,
            "\n{:<17} {:<11} {:<21} {:<6} {:<52} plover",
            "stance", "modality", "predicate", "cameo", "cameo label"
        )?;
    }
    for s in &v.stances {
        for p in &v.predicates {
            let Some(m) = v.mapping(&s.id, &p.id) else {
                continue;
            };
            let label = v
                .cameo_labels
                .get(&m.cameo)
                .map(String::as_str)
                .unwrap_or("");
            if o.json {
                writeln!(
                    out,
                    "{}",
                    json!({
                        "stance": s.id, "modality": s.modality.as_str(), "predicate": p.id,
                        "cameo": m.cameo, "cameo_label": label,
                        "plover": m.plover, "plover_mode": m.mode, "plover_context": m.context,
                    })
                )?;
            } else {
                let plover = [m.plover.as_deref(), m.mode.as_deref(), m.context.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                writeln!(
                    out,
                    "{:<17} {:<11} {:<21} {:<6} {:<52} {plover}",
                    s.id, s.modality, p.id, m.cameo, label
                )?;
            }
        }
    }
    Ok(0)
}

fn actor_json(a: &demarche::vocab::Actor) -> Value {
    let mut m = view::event_json(&Event::Actor(a.def.clone()));
    m.remove("type");
    m.insert("defined_at".into(), a.defined_at.into());
    m.insert("retired_by".into(), a.retired.into());
    if !a.roles.is_empty() {
        let roles: Vec<Value> = a
            .roles
            .iter()
            .map(|r| {
                json!({
                    "party": r.of,
                    "role": r.role,
                    "from": r.from.to_string(),
                    "until": r.until.map(|d| d.to_string()),
                })
            })
            .collect();
        m.insert("roles".into(), roles.into());
    }
    Value::Object(m)
}

/// The actor a name stands for: one that resolves, or a retired actor by its id.
fn resolve_any(actors: &demarche::vocab::Actors, name: &str) -> Result<String> {
    actors
        .resolve(name)
        .map(str::to_string)
        .map_err(|u| Failure::unknown_name(format!("unknown actor {u}")))
}

/// `demarche actor`.
/// `demarche actor list` on an open ledger.
pub(super) fn actor_list_on(
    ledger: &Ledger,
    kind: Option<&str>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    for act in ledger.actors()?.iter() {
        if kind.is_some_and(|k| act.def.kind != k) {
            continue;
        }
        if o.json {
            writeln!(out, "{}", actor_json(act))?;
        } else {
            let retired = act
                .retired
                .map_or(String::new(), |by| format!("  [retired by seq {by}]"));
            writeln!(
                out,
                "{:<14} {:<13} {}{retired}",
                act.def.id, act.def.kind, act.def.name
            )?;
        }
    }
    Ok(0)
}

pub(super) fn actor(cli: &Cli, a: &ActorCommand, out: &mut impl Write) -> Result<u8> {
    let (event, o) = match a {
        ActorCommand::Add {
            id,
            name,
            kind,
            aliases,
            parent,
            cameo,
            out: o,
        } => {
            let mut v =
                json!({"type": "actor", "id": id, "name": name, "kind": kind, "aliases": aliases});
            if let Some(p) = parent {
                v["parent"] = p.clone().into();
            }
            if let Some(c) = cameo {
                v["cameo"] = c.clone().into();
            }
            (v, o)
        }
        ActorCommand::Alias {
            actor,
            alias,
            remove: false,
            out: o,
            ..
        } => (json!({"type": "alias", "actor": actor, "alias": alias}), o),
        ActorCommand::Alias {
            actor,
            alias,
            remove: true,
            reason,
            out: o,
        } => {
            let ledger = open(cli, false)?;
            let actors = ledger.actors()?;
            let id = resolve_any(actors, actor)?;
            let key = demarche::vocab::normalise(alias);
            let given: Vec<(u64, Option<u64>)> = actors
                .events_of(&id)
                .into_iter()
                .filter_map(|(seq, e, by)| match e {
                    Retired::Alias(a) if demarche::vocab::normalise(&a.alias) == key => {
                        Some((seq, by))
                    }
                    _ => None,
                })
                .collect();
            let Some((seq, _)) = given.iter().find(|(_, by)| by.is_none()) else {
                let why = match given.first() {
                    Some((seq, Some(by))) => {
                        format!("the alias event that gave it (seq {seq}) was retired by seq {by}")
                    }
                    _ => "no alias event gave it that name".to_string(),
                };
                return Err(Failure::usage(format!(
                    "{id} has no alias \"{alias}\" to remove: {why}"
                ))
                .hint(format!(
                    "`demarche actor show {id}` lists its names; a name given in `actor add` goes with `actor retire`"
                )));
            };
            (
                json!({"type": "retraction", "of": seq, "reason": reason}),
                o,
            )
        }
        ActorCommand::Retire {
            actor,
            reason,
            out: o,
        } => {
            let ledger = open(cli, false)?;
            let actors = ledger.actors()?;
            let id = resolve_any(actors, actor)?;
            let act = actors.get(&id).expect("resolved");
            if let Some(by) = act.retired {
                return Err(Failure::usage(format!("{id} was retired by seq {by}")));
            }
            let Some(seq) = act.defined_at else {
                return Err(Failure::usage(format!(
                    "{id} is in the starter set, which no event of this ledger defines: it cannot be retired"
                )));
            };
            (
                json!({"type": "retraction", "of": seq, "reason": reason}),
                o,
            )
        }
        ActorCommand::Role {
            actor,
            of,
            role,
            from,
            until,
            out: o,
        } => {
            let mut v =
                json!({"type": "role", "actor": actor, "party": of, "role": role, "from": from});
            if let Some(u) = until {
                v["until"] = u.clone().into();
            }
            (v, o)
        }
        ActorCommand::List { kind, out: o } => {
            return actor_list_on(&open_or_starter(cli)?, kind.as_deref(), *o, out);
        }
        ActorCommand::Show { name, out: o } => {
            let ledger = open_or_starter(cli)?;
            let actors = ledger.actors()?;
            let id = resolve_any(actors, name)?;
            let act = actors.get(&id).expect("resolved");
            let retired_aliases: Vec<(u64, String, u64)> = actors
                .events_of(&id)
                .into_iter()
                .filter_map(|(seq, e, by)| match (e, by) {
                    (Retired::Alias(a), Some(by)) => Some((seq, a.alias, by)),
                    _ => None,
                })
                .collect();
            if o.json {
                let mut v = actor_json(act);
                v["retired_aliases"] = retired_aliases
                    .iter()
                    .map(|(seq, alias, by)| json!({"alias": alias, "seq": seq, "retired_by": by}))
                    .collect::<Vec<_>>()
                    .into();
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{:<9}{}", "id", act.def.id)?;
                writeln!(out, "{:<9}{}", "name", act.def.name)?;
                writeln!(out, "{:<9}{}", "kind", act.def.kind)?;
                writeln!(out, "{:<9}{}", "aliases", act.def.aliases.join(", "))?;
                if let Some(p) = &act.def.parent {
                    writeln!(out, "{:<9}{}", "parent", p)?;
                }
                if let Some(c) = &act.def.cameo {
                    writeln!(out, "{:<9}{}", "cameo", c)?;
                }
                let at = act
                    .defined_at
                    .map_or("starter set".to_string(), |s| format!("seq {s}"));
                writeln!(out, "{:<9}{}", "defined", at)?;
                if let Some(by) = act.retired {
                    writeln!(
                        out,
                        "{:<9}by seq {by}: its names no longer resolve, and no new event may name it",
                        "retired"
                    )?;
                }
                for (seq, alias, by) in &retired_aliases {
                    writeln!(
                        out,
                        "{:<9}\"{alias}\" (given by seq {seq}, retired by seq {by})",
                        "retired"
                    )?;
                }
                for r in &act.roles {
                    let span = match r.until {
                        Some(u) => format!("from {} to {u}", r.from),
                        None => format!("since {}", r.from),
                    };
                    writeln!(out, "{:<9}{}, for {}, {span}", "role", r.role, r.of)?;
                }
            }
            return Ok(0);
        }
    };
    let event = json::parse_event(&event.to_string()).map_err(Failure::rejected)?;
    append_one(cli, event, o.json, false, out)
}
