//! The writer against the engine on a schema of its own: the same bytes
//! for documents of every form, and the engine's answer whenever the
//! writer cannot give it.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

use super::*;

struct Item(u32);

/// An item; `slow` waits, as a resolver asking a partner would.
#[Object]
impl Item {
    async fn n(&self) -> u32 {
        self.0
    }

    async fn label(&self, #[graphql(default)] loud: bool) -> String {
        match loud {
            true => format!("ITEM \"{}\"", self.0),
            false => format!("item\n{}", self.0),
        }
    }

    async fn half(&self) -> Option<f64> {
        (self.0 % 2 == 1).then(|| f64::from(self.0) / 2.0)
    }

    async fn slow(&self) -> u32 {
        tokio::task::yield_now().await;
        self.0
    }

    async fn unwritten(&self) -> bool {
        true
    }

    /// Answers, and says an error beside its answer, naming its path.
    async fn warned(&self, ctx: &async_graphql::Context<'_>) -> u32 {
        let at = ctx.path_node.map(|p| p.to_string()).unwrap_or_default();
        ctx.add_error(async_graphql::ServerError::new(
            format!("failed at {at}"),
            None,
        ));
        self.0
    }
}

impl Written for Item {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        let ctx = w.ctx();
        match f.name() {
            "n" => w.put(resolved!(w, self.n)),
            "label" => w.str(&resolved!(w, self.label, f.arg_or_default(ctx, "loud")?)),
            "half" => w.put(resolved!(w, self.half)),
            "slow" => w.put(resolved!(w, self.slow)),
            "warned" => w.put(resolved!(w, self.warned)),
            _ => None,
        }
    }
}

struct Shelf(Vec<Item>);

#[Object]
impl Shelf {
    async fn count(&self) -> usize {
        self.0.len()
    }

    async fn items(&self, first: Option<usize>) -> Vec<&Item> {
        self.0.iter().take(first.unwrap_or(usize::MAX)).collect()
    }
}

impl Written for Shelf {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "count" => w.put(resolved!(w, self.count)),
            "items" => w.objects(resolved!(w, self.items, f.arg(w.ctx(), "first")?), f.sub()),
            _ => None,
        }
    }
}

struct Root;

#[Object]
impl Root {
    async fn shelf(&self) -> Page<Shelf> {
        Page(Shelf((1..=4).map(Item).collect()))
    }
}

/// The answer's bytes, and whether the writer wrote them.
async fn answer(document: &str, variables: serde_json::Value, writes: bool) -> (String, bool) {
    let schema = Schema::build(Root, EmptyMutation, EmptySubscription)
        .data(Allowed(writes))
        .finish();
    let request = async_graphql::Request::new(document)
        .variables(async_graphql::Variables::from_json(variables))
        .data(WritesJson);
    let response = schema.execute(request).await;
    let written = matches!(&response.data, async_graphql::Value::Object(m)
        if matches!(m.get("shelf"), Some(async_graphql::Value::Binary(_))));
    let mut body = Vec::new();
    json::value(&mut body, &response.data);
    json::put(&mut body, &response.errors);
    (String::from_utf8(body).unwrap(), written)
}

#[tokio::test]
async fn written_pages_are_the_engine_s_bytes() {
    let documents = [
        "{ shelf { count items { n label half } } }",
        // Aliases, a key asked twice with its fields merged, `__typename`.
        "{ shelf { __typename c: count items(first: 2) { n } items(first: 2) { kind: __typename label(loud: true) } } }",
        // Fragments: inline with and without a condition, named, and one
        // on another type, which does not apply.
        "query { shelf { ... on Shelf { count } ... { items { ...I } } } } fragment I on Item { n ... on Item { half } }",
        // Arguments from variables, and a variable's default.
        "query($f: Int, $loud: Boolean = true) { shelf { items(first: $f) { label(loud: $loud) } } }",
        // Skipped and included by the engine before the writer plans.
        "query($no: Boolean = false) { shelf { count @include(if: $no) items @skip(if: $no) { n } } }",
    ];
    for document in documents {
        let variables = serde_json::json!({ "f": 3 });
        let (engine, by_writer) = answer(document, variables.clone(), false).await;
        assert!(!by_writer);
        let (written, by_writer) = answer(document, variables, true).await;
        assert!(by_writer, "{document}");
        assert_eq!(written, engine, "{document}");
    }
}

#[tokio::test]
async fn the_engine_answers_what_the_writer_cannot() {
    let documents = [
        // A field the writer does not write.
        "{ shelf { items { n unwritten } } }",
        // A resolver that waits.
        "{ shelf { items { slow } } }",
        // A resolver that says an error beside its answer: at its own path.
        "{ shelf { items { warned } } }",
        // An argument the engine refuses: its error, at its path.
        "query($f: Int) { shelf { items(first: $f) { n } } }",
    ];
    for document in documents {
        let variables = serde_json::json!({ "f": -1 });
        let (engine, _) = answer(document, variables.clone(), false).await;
        let (answered, by_writer) = answer(document, variables, true).await;
        assert!(!by_writer, "{document}");
        assert_eq!(answered, engine, "{document}");
    }
}
