//! A selection planned for writing: the fields of each response key in
//! the document's order, fragments applied as the engine applies them,
//! fields of one key merged, each with the plan of its own selection.

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::MetaTypeName;
use async_graphql::{Context, InputType, Positioned, Value};

/// The fields a selection asks of an object, by response key.
#[derive(Default)]
pub struct Fields<'a> {
    items: Vec<Planned<'a>>,
}

/// A field to write: its response key, its name and arguments, and the
/// fields it selects in turn.
pub struct Planned<'a> {
    key: &'a str,
    field: &'a Positioned<Field>,
    sub: Fields<'a>,
}

/// The fields of one response key, as the document spells them.
type Group<'a> = (&'a str, Vec<&'a Positioned<Field>>);

impl<'a> Fields<'a> {
    /// The fields the field of `ctx` selects on its type `ty`; `None` when
    /// the engine must answer (a directive the engine would run).
    pub fn of(ctx: &Context<'a>, ty: &str) -> Option<Self> {
        Self::plan(ctx, &[&ctx.item.node.selection_set.node], ty)
    }

    fn plan(ctx: &Context<'a>, sets: &[&'a SelectionSet], ty: &str) -> Option<Self> {
        let mut groups: Vec<Group<'a>> = Vec::new();
        for set in sets {
            collect(ctx, set, ty, &mut groups)?;
        }
        let meta = ctx.schema_env.registry.types.get(ty)?;
        let mut items = Vec::with_capacity(groups.len());
        for (key, fields) in groups {
            let field = *fields.first()?;
            let sets: Vec<&'a SelectionSet> = fields
                .iter()
                .map(|f| &f.node.selection_set.node)
                .filter(|s| !s.items.is_empty())
                .collect();
            let sub = if sets.is_empty() {
                Fields::default()
            } else {
                let child = meta.field_by_name(&field.node.name.node)?;
                Self::plan(ctx, &sets, MetaTypeName::concrete_typename(&child.ty))?
            };
            items.push(Planned { key, field, sub });
        }
        Some(Self { items })
    }

    /// The fields, in the document's order.
    pub fn iter(&self) -> impl Iterator<Item = &Planned<'a>> {
        self.items.iter()
    }
}

/// Adds the fields of `set` that apply to an object of type `ty`.
fn collect<'a>(
    ctx: &Context<'a>,
    set: &'a SelectionSet,
    ty: &str,
    groups: &mut Vec<Group<'a>>,
) -> Option<()> {
    for item in &set.items {
        // `@skip` and `@include` are gone: the engine applied them. Any
        // other directive is the engine's to run.
        if !item.node.directives().is_empty() {
            return None;
        }
        match &item.node {
            Selection::Field(f) => {
                let key = f.node.response_key().node.as_str();
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) => fields.push(f),
                    None => groups.push((key, vec![f])),
                }
            }
            Selection::InlineFragment(i) => {
                let on = i
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str());
                if applies(ctx, on, ty) {
                    collect(ctx, &i.node.selection_set.node, ty, groups)?;
                }
            }
            Selection::FragmentSpread(s) => {
                let fragment = ctx.query_env.fragments.get(&s.node.fragment_name.node)?;
                if !fragment.node.directives.is_empty() {
                    return None;
                }
                if applies(ctx, Some(&fragment.node.type_condition.node.on.node), ty) {
                    collect(ctx, &fragment.node.selection_set.node, ty, groups)?;
                }
            }
        }
    }
    Some(())
}

/// Whether a fragment on `on` applies to an object of type `ty`: the
/// engine's rule (the type itself, or an interface or union it is in).
fn applies(ctx: &Context<'_>, on: Option<&str>, ty: &str) -> bool {
    on.is_none_or(|on| {
        on == ty
            || ctx
                .schema_env
                .registry
                .implements
                .get(ty)
                .is_some_and(|set| set.contains(on))
    })
}

impl<'a> Planned<'a> {
    /// Its response key: its alias, else its name.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The field's name.
    pub fn name(&self) -> &'a str {
        self.field.node.name.node.as_str()
    }

    /// The fields it selects.
    pub fn sub(&self) -> &Fields<'a> {
        &self.sub
    }

    pub(super) fn field(&self) -> &'a Positioned<Field> {
        self.field
    }

    /// Its argument `name`, read as the engine reads it for a resolver
    /// (variables replaced; `T::parse(None)` when not given); `None` when
    /// it cannot be read, for the engine to answer with its error.
    pub fn arg<T: InputType>(&self, ctx: &Context<'_>, name: &str) -> Option<T> {
        let value = match self
            .field
            .node
            .arguments
            .iter()
            .find(|(n, _)| n.node == name)
        {
            Some((_, v)) => Some(
                v.node
                    .clone()
                    .into_const_with(|var| variable(ctx, &var).ok_or(()))
                    .ok()?,
            ),
            None => None,
        };
        T::parse(value).ok()
    }

    /// Its argument `name` declared with `#[graphql(default)]`: the type's
    /// default when not given.
    pub fn arg_or_default<T: InputType + Default>(
        &self,
        ctx: &Context<'_>,
        name: &str,
    ) -> Option<T> {
        if self.field.node.get_argument(name).is_none() {
            return Some(T::default());
        }
        self.arg(ctx, name)
    }
}

/// A variable's value: as sent, else its default.
fn variable(ctx: &Context<'_>, name: &str) -> Option<Value> {
    let def = ctx
        .query_env
        .operation
        .node
        .variable_definitions
        .iter()
        .find(|d| d.node.name.node == name)?;
    ctx.query_env
        .variables
        .get(&def.node.name.node)
        .or_else(|| def.node.default_value())
        .cloned()
}
