//! Pages written to JSON directly. The engine answers a field with a
//! future and a value, then the answer is serialized: for a page of 100
//! CFAs with their programmes, offers, events and mobility, that is 3,400
//! objects and 6,400 values built, ordered, serialized and dropped, for
//! 240 kB of JSON. A page type that is [`Written`] is answered in one pass
//! instead: its selection is planned once ([`Fields`]), then each object
//! writes its fields' JSON in the document's order.
//!
//! The engine still parses, validates, bounds and times the request; the
//! writer only replaces the execution of the page's field. It gives way to
//! the engine, which answers as it always did, whenever it cannot answer
//! exactly as the engine would: a field it does not write, a directive it
//! does not know, an argument it cannot read, a resolver that would wait,
//! a partner's error to report at a path. The written JSON travels in the
//! answer as a [`Value::Binary`] that [`json::value`] copies as it is:
//! only the doors that write answers with it allow writing (they say so
//! with [`WritesJson`] in the request's data), and no scalar of this
//! schema answers bytes.

pub mod json;
mod plan;

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{Context, ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use futures::FutureExt;

pub use plan::{Fields, Planned};

/// In a request's data: the door that runs it writes its answer with
/// [`json::value`], which copies written pages as they are.
#[derive(Clone, Copy, Debug)]
pub struct WritesJson;

/// In the schema's data: whether the operator lets pages be written
/// (`api.write_json`).
#[derive(Clone, Copy, Debug)]
pub struct Allowed(pub bool);

/// A type whose objects write their fields' JSON.
pub trait Written: Sync {
    /// The GraphQL type it is written as: `__typename`.
    type As: OutputType;

    /// Writes the value of the field `f` of this object; `None` when it
    /// cannot, and the engine answers the page.
    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()>;
}

/// The value a resolver returns, when it returns it at once: resolvers
/// are the one truth of a field's value, and the writer calls them. One
/// that would wait (a partner to ask) gives way to the engine.
pub fn ready<T>(resolver: impl Future<Output = T>) -> Option<T> {
    resolver.now_or_never()
}

/// What the resolver `$on.$method` answers, called as the engine calls it
/// (the request's context, then the arguments): `resolved!(w, self.title)`.
/// The writer gives way to the engine (the enclosing function returns
/// `None`) when it would wait or fails: the engine says the error.
macro_rules! resolved {
    ($w:ident, $on:ident . $method:ident $(, $arg:expr)*) => {
        $crate::graphql::common::written::ready($on.$method($w.ctx() $(, $arg)*))?.ok()?
    };
}
pub(crate) use resolved;

/// The JSON of a page being written, and the request it answers.
pub struct Writer<'c> {
    out: Vec<u8>,
    ctx: &'c Context<'c>,
}

impl<'c> Writer<'c> {
    /// The request's context: its data, its variables.
    pub fn ctx(&self) -> &'c Context<'c> {
        self.ctx
    }

    /// Writes `v`'s fields `fields`, as an object.
    pub fn object<T: Written>(&mut self, v: &T, fields: &Fields<'_>) -> Option<()> {
        self.out.push(b'{');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            json::string(&mut self.out, f.key());
            self.out.push(b':');
            if f.name() == "__typename" {
                json::string(&mut self.out, &T::As::type_name());
            } else {
                v.field(f, self)?;
            }
        }
        self.out.push(b'}');
        Some(())
    }

    /// Writes `v` as an object, or null.
    pub fn optional<T: Written>(&mut self, v: Option<&T>, fields: &Fields<'_>) -> Option<()> {
        match v {
            Some(v) => self.object(v, fields),
            None => {
                self.null();
                Some(())
            }
        }
    }

    /// Writes a list of objects.
    pub fn objects<'v, T: Written + 'v>(
        &mut self,
        items: impl IntoIterator<Item = &'v T>,
        fields: &Fields<'_>,
    ) -> Option<()> {
        self.out.push(b'[');
        for (i, v) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.object(v, fields)?;
        }
        self.out.push(b']');
        Some(())
    }

    /// Writes a string.
    pub fn str(&mut self, s: &str) -> Option<()> {
        json::string(&mut self.out, s);
        Some(())
    }

    /// Writes a string, or null.
    pub fn opt_str(&mut self, s: Option<&str>) -> Option<()> {
        match s {
            Some(s) => self.str(s),
            None => {
                self.null();
                Some(())
            }
        }
    }

    /// Writes a list of strings.
    pub fn strs<'s>(&mut self, items: impl IntoIterator<Item = &'s str>) -> Option<()> {
        self.out.push(b'[');
        for (i, s) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            json::string(&mut self.out, s);
        }
        self.out.push(b']');
        Some(())
    }

    /// Writes a number, a boolean, or null: anything JSON writes alone.
    pub fn put<T: serde::Serialize>(&mut self, v: T) -> Option<()> {
        json::put(&mut self.out, &v);
        Some(())
    }

    /// Writes null.
    pub fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    /// Writes a scalar or an enum value as the engine does, from its own
    /// output type (`DateTime`, `PartnerId`, `OfferStatus`…); `None` for a
    /// type that is neither.
    pub fn leaf<T: OutputType>(&mut self, v: &T, f: &Planned<'_>) -> Option<()> {
        let set = self.ctx.with_selection_set(&f.field().node.selection_set);
        let value = ready(v.resolve(&set, f.field()))?.ok()?;
        if matches!(value, Value::Object(_) | Value::List(_) | Value::Binary(_)) {
            return None;
        }
        json::value(&mut self.out, &value);
        Some(())
    }

    /// Writes a scalar or an enum value, or null.
    pub fn opt_leaf<T: OutputType>(&mut self, v: Option<&T>, f: &Planned<'_>) -> Option<()> {
        match v {
            Some(v) => self.leaf(v, f),
            None => {
                self.null();
                Some(())
            }
        }
    }
}

/// Whether the door and the operator allow writing the answer's pages.
fn allowed(ctx: &ContextSelectionSet<'_>) -> bool {
    ctx.data_opt::<WritesJson>().is_some() && ctx.data_opt::<Allowed>().is_some_and(|a| a.0)
}

/// The JSON of `v`'s fields as `field` selects them, when every field is
/// written here.
fn write<T: Written>(
    v: &T,
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
) -> Option<Vec<u8>> {
    let ctx = ctx.with_field(field);
    let fields = Fields::of(&ctx, &T::As::type_name())?;
    let mut w = Writer {
        // The last page's size: pages of one kind are alike, and a buffer
        // grown from small is copied at each step.
        out: Vec::with_capacity(LAST_SIZE.load(Ordering::Relaxed)),
        ctx: &ctx,
    };
    // A resolver called here with the page's context would say its errors
    // at the page's path: those are taken back, and the engine answers
    // with each at its own. Nothing else of the request runs meanwhile
    // (writing does not wait), so only the writer's are taken back.
    let errors = |ctx: &Context<'_>| ctx.query_env.errors.lock().map_or(0, |e| e.len());
    let before = errors(&ctx);
    let written = w.object(v, &fields);
    if errors(&ctx) > before {
        if let Ok(mut e) = ctx.query_env.errors.lock() {
            e.truncate(before);
        }
        return None;
    }
    written?;
    LAST_SIZE.store(w.out.len().clamp(1 << 10, 4 << 20), Ordering::Relaxed);
    Some(w.out)
}

/// The size of the last page written.
static LAST_SIZE: AtomicUsize = AtomicUsize::new(16 << 10);

/// A page the writer answers when it can ([`Written`]), the engine
/// otherwise; the schema sees the page's own type.
pub struct Page<T>(pub T);

impl<T: OutputType + Written> OutputType for Page<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if allowed(ctx) {
            let written = write(&self.0, ctx, field);
            let by = if written.is_some() {
                "writer"
            } else {
                "engine"
            };
            metrics::counter!("passerelle_graphql_pages_total", "answered_by" => by).increment(1);
            if let Some(json) = written {
                return Ok(Value::Binary(json.into()));
            }
        }
        self.0.resolve(ctx, field).await
    }
}

#[cfg(test)]
mod tests;
