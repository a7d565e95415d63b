//! `mapping`: a mapping file's checks and tests, and a payload mapped as
//! a partner's.

use std::path::Path;
use std::process::ExitCode;

use passerelle_connectors::Registry;
use passerelle_mappings::{Catalog, EntityKind};

use super::args::MappingCommand;

fn catalog(dir: Option<&Path>) -> Result<Catalog, passerelle_mappings::MappingFileError> {
    Registry::standard().catalog(dir)
}

/// Why a payload cannot be a partner's at all, before it is read: empty,
/// or an HTML page (the error page of a proxy or a portal).
fn unreadable_payload(bytes: &[u8]) -> Option<&'static str> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Some("the input is empty");
    };
    let head: Vec<u8> = text[start..]
        .iter()
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    (head.starts_with(b"<!doctype html") || head.starts_with(b"<html"))
        .then_some("an HTML page, not a partner's payload")
}

pub(super) fn mapping(command: MappingCommand) -> ExitCode {
    match command {
        MappingCommand::Test { dir } => {
            let catalog = match catalog(dir.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("passerelle: {e}");
                    return ExitCode::from(2);
                }
            };
            let outcomes = catalog.run_tests();
            let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
            for o in &outcomes {
                match &o.failure {
                    None => println!("ok     {} — {}", o.file, o.name),
                    Some(why) => println!("FAILED {} — {}: {why}", o.file, o.name),
                }
            }
            println!("{} passed, {failed} failed", outcomes.len() - failed);
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        MappingCommand::Run {
            partner,
            entity,
            input,
            dir,
            context,
        } => {
            let run = || -> Result<ExitCode, (u8, String)> {
                let catalog = catalog(dir.as_deref()).map_err(|e| (2, e.to_string()))?;
                let kind = EntityKind::parse(&entity).map_err(|e| (2, e))?;
                let mapping = catalog
                    .get(partner, kind)
                    .ok_or_else(|| (2, format!("no {entity} mapping for {partner}")))?;
                let bytes = std::fs::read(&input)
                    .map_err(|e| (2, format!("cannot read {}: {e}", input.display())))?;
                unreadable_payload(&bytes).map_or(Ok(()), |why| {
                    Err((2, format!("{}: {why}", input.display())))
                })?;
                let (mut records, broken) = mapping.records(&bytes);
                for r in &mut records {
                    if let serde_json::Value::Object(map) = r {
                        for (k, v) in &context {
                            map.insert(k.clone(), serde_json::Value::String(v.clone()));
                        }
                    }
                }
                if records.is_empty() {
                    return Err((
                        2,
                        match broken {
                            Some(e) => format!("{}: {e}", input.display()),
                            None => format!(
                                "{}: no {entity} record in it: not a {partner} payload",
                                input.display()
                            ),
                        },
                    ));
                }
                let mut rejected = 0;
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                // Events are gathered as the connector gathers them: an
                // override of one occurrence within its event, the latest
                // version of each.
                let mut events = Vec::new();
                for (i, r) in records.iter().enumerate() {
                    let mapped = match kind {
                        EntityKind::Event => mapping
                            .map_record::<passerelle_schema::Event>(i, r)
                            .map(|e| events.push(e))
                            .map(|()| None),
                        _ => mapping.map_record_json(i, r).map(Some),
                    };
                    match mapped {
                        Ok(Some(v)) => {
                            use std::io::Write;
                            let _ = writeln!(out, "{v}");
                        }
                        Ok(None) => {}
                        Err(e) => {
                            rejected += 1;
                            eprintln!("rejected {e}");
                        }
                    }
                }
                for e in passerelle_schema::Event::gather(events) {
                    use std::io::Write;
                    let _ = writeln!(out, "{}", serde_json::json!(e));
                }
                if let Some(e) = broken {
                    eprintln!("payload broken after record {}: {e}", records.len());
                    rejected += 1;
                }
                Ok(if rejected == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            };
            match run() {
                Ok(code) => code,
                Err((code, message)) => {
                    eprintln!("passerelle: {message}");
                    ExitCode::from(code)
                }
            }
        }
    }
}
