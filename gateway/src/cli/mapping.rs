//! `mapping`: a mapping file's checks and tests, and a payload mapped as
//! a partner's.

use std::path::Path;
use std::process::ExitCode;

use passerelle_connectors::Registry;
use passerelle_mappings::{Catalog, EntityKind};

use super::args::MappingCommand;

/// The shipped mappings, and those of `dir` over them. A folder of `dir`
/// that no partner of this binary is named by is a partner declared in
/// configuration: declared here too, so that its files can be read.
fn catalog(dir: Option<&Path>) -> Result<Catalog, passerelle_mappings::MappingFileError> {
    let registry = Registry::standard();
    if let Some(dir) = dir {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if registry.partner(&name).is_none() {
                    let _ = declare_for_mappings(&name);
                }
            }
        }
    }
    registry.catalog(dir)
}

/// Declares `id` with a placeholder identity unless a partner is it: what
/// reading its mapping files needs.
fn declare_for_mappings(id: &str) -> Result<passerelle_schema::Partner, String> {
    if let Ok(p) = id.parse::<passerelle_schema::Partner>() {
        return Ok(p);
    }
    passerelle_schema::Partner::declare_read(passerelle_schema::PartnerInfo {
        id: id.to_owned(),
        api_name: id.to_ascii_uppercase().replace('-', "_"),
        name: id.to_owned(),
        about: id.to_owned(),
        mode: passerelle_schema::PartnerMode::Synced,
    })
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

/// `mapping init`: a first mapping file from a sample.
fn init(
    entity: &str,
    input: &Path,
    partner: Option<String>,
    out: Option<&Path>,
) -> Result<(), String> {
    let kind = EntityKind::parse(entity)?;
    let bytes =
        std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    if let Some(why) = unreadable_payload(&bytes) {
        return Err(format!("{}: {why}", input.display()));
    }
    let sample = passerelle_mappings::init::Sample::read(&bytes)
        .map_err(|e| format!("{}: {e}", input.display()))?;
    let id = partner.unwrap_or_else(|| {
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let id: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        id.trim_matches('-').to_owned()
    });
    // The file's partner, declared for this command when no partner of
    // this binary is it, so that the file can be checked.
    declare_for_mappings(&id)?;
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = passerelle_mappings::init::first_mapping(&id, kind, &sample, &name);
    match out {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "wrote {}: check each field, then `passerelle mapping test`",
                path.display()
            );
            Ok(())
        }
    }
}

pub(super) fn mapping(command: MappingCommand) -> ExitCode {
    match command {
        MappingCommand::Init {
            entity,
            input,
            partner,
            out,
        } => match init(&entity, &input, partner, out.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("passerelle: {e}");
                ExitCode::from(2)
            }
        },
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
                let partner: passerelle_schema::Partner = partner
                    .parse()
                    .map_err(|e: passerelle_schema::partner::UnknownPartner| (2, e.to_string()))?;
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
