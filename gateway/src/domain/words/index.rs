//! The words of a snapshot's records, indexed by tantivy in memory: one
//! segment, written without a thread, whose documents are the records'
//! positions. Searches read the postings of the words typed (and of the
//! words one edit away) rather than every record.

use std::sync::LazyLock;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::directory::RamDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STRING};
use tantivy::{DocId, Index, ReloadPolicy, Score, Searcher, SegmentOrdinal, SegmentReader};
use tantivy::{TantivyDocument, Term};

use super::{Said, Words};

/// The analyzer's name in the index.
const FRENCH: &str = "fr";

/// How much a word found counts in each part of a record, beside its
/// BM25 weight there.
const TITLE: Score = 3.0;
const OCCUPATION: Score = 2.0;
const BODY: Score = 1.0;
const PLACE: Score = 1.0;
/// What a word one edit away from a record's adds.
const TYPO: Score = 0.5;
/// What a record filed under an occupation the words name adds, per word:
/// a job title typed whole ranks its occupation's records first.
const NAMED: Score = 5.0;
/// What a record at the diploma level named adds.
const LEVEL: Score = 3.0;
/// What a record in the town named (not only around it) adds.
const TOWN: Score = 2.0;

/// The memory the writer's tables start with; they grow as needed.
const WRITER_BUDGET: usize = 4 << 20;

/// The parts of a record, as index fields.
struct Fields {
    schema: Schema,
    title: Field,
    occupation: Field,
    body: Field,
    place: Field,
    rome: Field,
    level: Field,
    commune: Field,
}

/// One schema for every index, so that one query runs on each and their
/// statistics add up.
static FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let mut schema = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FRENCH)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let title = schema.add_text_field("title", text.clone());
    let occupation = schema.add_text_field("occupation", text.clone());
    let body = schema.add_text_field("body", text.clone());
    let place = schema.add_text_field("place", text);
    let rome = schema.add_text_field("rome", STRING);
    let level = schema.add_text_field("level", STRING);
    let commune = schema.add_text_field("commune", STRING);
    Fields {
        schema: schema.build(),
        title,
        occupation,
        body,
        place,
        rome,
        level,
        commune,
    }
});

/// The records of one snapshot, by their words.
pub struct WordsIndex {
    searcher: Searcher,
}

impl std::fmt::Debug for WordsIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordsIndex")
            .field("records", &self.searcher.num_docs())
            .finish()
    }
}

/// Indexes records one at a time: the caller unpacks each, so that the
/// feed is never held twice.
pub struct WordsIndexBuilder {
    writer: tantivy::SingleSegmentIndexWriter<TantivyDocument>,
}

impl WordsIndex {
    /// A builder, its records to be added in position order.
    pub fn builder() -> WordsIndexBuilder {
        let index = Index::builder()
            .schema(FIELDS.schema.clone())
            .tokenizers(tokenizers())
            // A single segment in memory, no thread, and no garbage
            // collection: the directory starts empty and is written once.
            .single_segment_index_writer(RamDirectory::create(), WRITER_BUDGET)
            .expect("an index in memory");
        WordsIndexBuilder { writer: index }
    }

    /// An index of `records`, each told by `said`.
    pub fn of<R>(records: &[R], said: impl Fn(&R, &mut dyn FnMut(&Said<'_>))) -> WordsIndex {
        let mut builder = Self::builder();
        for r in records {
            said(r, &mut |s| builder.add(s));
        }
        builder.finish()
    }

    /// How many records it holds.
    pub fn len(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The memory the index takes, in bytes.
    pub fn bytes(&self) -> u64 {
        self.searcher
            .space_usage()
            .map_or(0, |u| u.total().get_bytes())
    }

    /// The records that say every word, by position, with their scores,
    /// ranked against `statistics` (these records' and those of the other
    /// indexes searched with them).
    pub fn search(&self, words: &Words, statistics: &WordsStatistics<'_>) -> Vec<(u32, Score)> {
        let query = words.query();
        self.searcher
            .search_with_statistics_provider(&query, &AllScored, statistics)
            .unwrap_or_else(|e| {
                // The index is in memory and its schema fixed: a search
                // cannot fail but by a defect, which must not end a request.
                tracing::error!(error = %e, "words search failed");
                Vec::new()
            })
    }
}

impl WordsIndexBuilder {
    /// Adds the next record.
    pub fn add(&mut self, said: &Said<'_>) {
        let f = &*FIELDS;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.title, said.title);
        for o in &said.occupations {
            doc.add_text(f.occupation, o);
        }
        for b in &said.body {
            doc.add_text(f.body, b);
        }
        for p in &said.places {
            doc.add_text(f.place, p);
        }
        for code in said.filed_under() {
            doc.add_text(f.rome, code);
        }
        if let Some(l) = said.level {
            doc.add_text(f.level, l.get().to_string());
        }
        for c in &said.communes {
            doc.add_text(f.commune, c);
        }
        // A document in memory, checked against a fixed schema.
        self.writer.add_document(doc).expect("a document in memory");
    }

    /// The index. The writer's tables, larger than the index they write,
    /// are given back to the system.
    pub fn finish(self) -> WordsIndex {
        let index = self.writer.finalize().expect("an index in memory");
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .expect("a reader in memory");
        let searcher = reader.searcher();
        crate::memory::give_back_freed_memory();
        let bytes = searcher.space_usage().map_or(0, |u| u.total().get_bytes());
        tracing::debug!(records = searcher.num_docs(), bytes, "words index built");
        WordsIndex { searcher }
    }
}

fn tokenizers() -> tantivy::tokenizer::TokenizerManager {
    let manager = tantivy::tokenizer::TokenizerManager::default();
    manager.register(FRENCH, super::analyzer());
    manager
}

/// The statistics of several indexes searched as one, so that their
/// records' scores compare.
pub struct WordsStatistics<'a>(pub Vec<&'a WordsIndex>);

impl tantivy::query::Bm25StatisticsProvider for WordsStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.0.iter().try_fold(0, |sum, i| {
            Ok(sum + tantivy::query::Bm25StatisticsProvider::total_num_tokens(&i.searcher, field)?)
        })
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.0.iter().map(|i| i.searcher.num_docs()).sum())
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.0
            .iter()
            .try_fold(0, |sum, i| Ok(sum + i.searcher.doc_freq(term)?))
    }
}

impl Words {
    /// The query of these words: each must be found (in a part of the
    /// record, one edit away, or as an occupation named), the diploma
    /// level named ranks first.
    fn query(&self) -> Box<dyn Query> {
        let f = &*FIELDS;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &self.words {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in [
                (f.title, TITLE),
                (f.occupation, OCCUPATION),
                (f.body, BODY),
                (f.place, PLACE),
            ] {
                let term = Term::from_field_text(field, &word.stem);
                let found = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(found), boost)),
                ));
                if word.typo && field != f.body {
                    let near = FuzzyTermQuery::new(term, 1, true);
                    any.push((
                        Occur::Should,
                        Box::new(ConstScoreQuery::new(Box::new(near), TYPO)),
                    ));
                }
            }
            for code in &word.occupations {
                let filed = TermQuery::new(
                    Term::from_field_text(f.rome, code),
                    IndexRecordOption::Basic,
                );
                any.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(Box::new(filed), NAMED)),
                ));
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(place) = &self.place {
            let around = TermSetQuery::new(
                place
                    .around
                    .iter()
                    .map(|c| Term::from_field_text(f.commune, c)),
            );
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(around), 0.0)),
            ));
            let town = TermQuery::new(
                Term::from_field_text(f.commune, place.commune),
                IndexRecordOption::Basic,
            );
            clauses.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(town), TOWN)),
            ));
        }
        if let Some(level) = self.level {
            let at = TermQuery::new(
                Term::from_field_text(f.level, &level.get().to_string()),
                IndexRecordOption::Basic,
            );
            // A diploma alone is a search of its level.
            let occur = if self.words.is_empty() && self.place.is_none() {
                Occur::Must
            } else {
                Occur::Should
            };
            clauses.push((occur, Box::new(ConstScoreQuery::new(Box::new(at), LEVEL))));
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Every record found, with its score, in position order.
struct AllScored;

/// A record found: its position, its score.
pub type Scored = (u32, Score);

impl Collector for AllScored {
    type Fruit = Vec<Scored>;
    type Child = AllScoredInSegment;

    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<Self::Child> {
        Ok(AllScoredInSegment(Vec::new()))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Scored>>) -> tantivy::Result<Vec<Scored>> {
        // One segment: its documents are the positions.
        Ok(fruits.into_iter().flatten().collect())
    }
}

struct AllScoredInSegment(Vec<Scored>);

impl SegmentCollector for AllScoredInSegment {
    type Fruit = Vec<Scored>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.0.push((doc, score));
    }

    fn harvest(self) -> Vec<Scored> {
        self.0
    }
}
