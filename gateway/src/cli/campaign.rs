//! The campaign's commands: a sandbox campaign written to files, and an
//! OPCO's allocations imported from a file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;

pub(super) fn write_campaign(
    out: &std::path::Path,
    settings: passerelle_connectors::sandbox::campaign::CampaignSettings,
    format: &str,
    batch: usize,
) -> anyhow::Result<()> {
    use passerelle_connectors::sandbox::campaign::Campaign;
    use std::collections::HashMap;
    use std::io::Write;

    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let year = settings.year;
    let mut files: HashMap<&str, std::io::BufWriter<std::fs::File>> = HashMap::new();
    let mut pending: HashMap<&str, Vec<passerelle_schema::AllocationInput>> = HashMap::new();
    let mut sent: HashMap<&str, usize> = HashMap::new();
    let jsonl = match format {
        "csv" => false,
        "jsonl" => true,
        other => anyhow::bail!("--format is csv or jsonl, not {other}"),
    };
    let mut flush = |opco: &'static str,
                     records: &mut Vec<passerelle_schema::AllocationInput>,
                     files: &mut HashMap<&str, std::io::BufWriter<std::fs::File>>|
     -> anyhow::Result<()> {
        let file = match files.entry(opco) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = out.join(format!("{opco}.{}", if jsonl { "jsonl" } else { "csv" }));
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                if !jsonl {
                    writeln!(
                        f,
                        "{}",
                        passerelle_connectors::sandbox::campaign::CSV_HEADER
                    )?;
                }
                e.insert(f)
            }
        };
        if jsonl {
            let n = sent.entry(opco).or_default();
            let body = serde_json::json!({
                "query": "mutation($input: PushAllocationsInput!) { pushAllocations(input: $input) { accepted duplicates rejectedCount } }",
                "variables": { "input": {
                    "campaign": year,
                    "idempotencyKey": format!("{opco}-{n}"),
                    "allocations": records,
                } }
            });
            *n += 1;
            writeln!(file, "{body}")?;
        } else {
            for a in records.iter() {
                passerelle_connectors::sandbox::campaign::write_csv_record(file, a)?;
            }
        }
        records.clear();
        Ok(())
    };
    for (opco, input) in Campaign::new(settings) {
        let records = pending.entry(opco).or_default();
        records.push(input);
        if records.len() >= batch {
            flush(opco, records, &mut files)?;
        }
    }
    for (opco, mut records) in pending {
        if !records.is_empty() {
            flush(opco, &mut records, &mut files)?;
        }
    }
    for (_, mut f) in files {
        f.flush()?;
    }
    Ok(())
}

pub(super) struct ImportArgs {
    pub(super) file: PathBuf,
    pub(super) opco: String,
    pub(super) campaign: Option<String>,
    pub(super) idempotency_key: Option<String>,
}

pub(super) async fn import_allocations(
    config: Config,
    args: ImportArgs,
) -> anyhow::Result<ExitCode> {
    use crate::domain::campaign::{self, Format};
    use sha2::{Digest, Sha256};

    let opco = passerelle_schema::Opco::parse(&args.opco).context("--opco")?;
    let format = Format::from_path(&args.file)?;
    let key = match args.idempotency_key {
        Some(k) => k,
        None => {
            let mut file = std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            let mut hash = Sha256::new();
            std::io::copy(&mut file, &mut hash)?;
            format!("file-sha256-{}", hex::encode(hash.finalize()))
        }
    };
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = file.metadata()?.len();
    let store = crate::store::Store::open(&config.store_url())
        .await
        .context("the store could not be opened")?;
    let bar = indicatif::ProgressBar::new(size).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {wide_bar} {eta} {msg}",
        )
        .expect("a valid template"),
    );
    let input = bar.wrap_read(file);
    let records = bar.clone();
    let result = campaign::ingest_upload(
        &store,
        &opco,
        &key,
        args.campaign.as_deref(),
        format,
        input,
        move |n| records.set_message(format!("{n} records")),
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report)?);
            eprintln!(
                "{}: {} stored, {} already stored, {} rejected{}",
                args.file.display(),
                report.accepted,
                report.duplicates,
                report.rejected_count,
                if report.replayed {
                    " (imported before: nothing changed)"
                } else {
                    ""
                }
            );
            Ok(if report.rejected_count > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            eprintln!(
                "passerelle: {} refused: {e} ({})",
                args.file.display(),
                e.code()
            );
            Ok(ExitCode::from(2))
        }
    }
}
