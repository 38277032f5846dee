//! The words statements are written in: `vocab` (stances, predicates and their
//! CAMEO and PLOVER codes) and `actor` (add, alias, list, show).

use super::args::{ActorCommand, Cli, Output};
use super::failure::{Failure, Result};
use super::open::open_or_starter;
use super::record::append_one;
use demarche::event::Event;
use demarche::json::{self, view};
use demarche::vocab::{Requirement, Vocabulary};
use serde_json::{json, Value};
use std::io::Write;

/// `demarche vocab`: every (stance, predicate) pair with its CAMEO and PLOVER codes.
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
            writeln!(
                out,
                "  {:<17} {:<11} {:<10} {}",
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

/// `demarche actor`.
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
            out: o,
        } => (json!({"type": "alias", "actor": actor, "alias": alias}), o),
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
            let ledger = open_or_starter(cli)?;
            for act in ledger.actors()?.iter() {
                if kind.as_ref().is_some_and(|k| &act.def.kind != k) {
                    continue;
                }
                if o.json {
                    writeln!(out, "{}", actor_json(act))?;
                } else {
                    writeln!(
                        out,
                        "{:<14} {:<13} {}",
                        act.def.id, act.def.kind, act.def.name
                    )?;
                }
            }
            return Ok(0);
        }
        ActorCommand::Show { name, out: o } => {
            let ledger = open_or_starter(cli)?;
            let actors = ledger.actors()?;
            let id = actors
                .resolve(name)
                .map_err(|u| Failure::usage(format!("unknown actor {u}")))?;
            let act = actors.get(id).expect("resolved");
            if o.json {
                writeln!(out, "{}", actor_json(act))?;
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
