//! The checks a document passes before anything runs, past what the
//! schema's validation does: the aliases and root fields it selects once
//! its fragments are expanded, and the values of its variables as their
//! declared types require. Depth and complexity are the schema's own
//! checks, which expand fragments too.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition,
    Selection, SelectionSet, Type,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::Value as GqlValue;
use serde_json::{Map, Value};

use crate::config::Limits;
use crate::graphql::common::errors::ErrorCode;

/// The operation a request runs: the only one, or the one it names.
pub(crate) fn chosen<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Checks what a whole document costs before the schema validates it,
/// since validation reads every operation and fragment, whichever runs:
/// its operations, each one's variables, the directives at each place,
/// how deep fragments spread fragments, and the field selections it makes
/// with fragments expanded where they are spread. Each fragment is counted
/// once, so a document of fragments that spread fragments twice costs its
/// size to count, not its expansion; the first bound exceeded is answered.
pub(crate) fn check_document(
    doc: &ExecutableDocument,
    limits: &Limits,
) -> Result<(), (ErrorCode, String)> {
    let operations: Vec<&Positioned<OperationDefinition>> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    if operations.len() > limits.max_operations {
        return Err((
            ErrorCode::TooManyOperations,
            format!(
                "the document defines {} operations; at most {}",
                operations.len(),
                limits.max_operations
            ),
        ));
    }
    let mut expander = Expander::new(&doc.fragments);
    let mut selections = 0usize;
    let mut depth = 0usize;
    let mut introspection = 0usize;
    for op in &operations {
        let op = &op.node;
        if op.variable_definitions.len() > limits.max_variables {
            return Err((
                ErrorCode::TooManyVariables,
                format!(
                    "an operation declares {} variables; at most {}",
                    op.variable_definitions.len(),
                    limits.max_variables
                ),
            ));
        }
        let most = op
            .variable_definitions
            .iter()
            .map(|v| v.node.directives.len())
            .chain(std::iter::once(op.directives.len()))
            .max()
            .unwrap_or(0);
        expander.directives = expander.directives.max(most);
        let counted = expander.count(&op.selection_set.node);
        selections = selections.saturating_add(counted.fields);
        depth = depth.max(counted.depth);
        introspection = introspection.max(counted.introspection);
    }
    for (name, fragment) in &doc.fragments {
        let directives = fragment.node.directives.len();
        expander.directives = expander.directives.max(directives);
        selections = selections.saturating_add(expander.fragment(name.as_str()).fields);
    }
    if expander.directives > limits.max_directives {
        return Err((
            ErrorCode::TooManyDirectives,
            format!(
                "a selection, fragment, operation or variable carries {} directives; at most {}",
                expander.directives, limits.max_directives
            ),
        ));
    }
    if expander.spread_too_deep {
        return Err((
            ErrorCode::TooDeep,
            format!("fragments spread fragments more than {MAX_SPREAD_DEPTH} deep"),
        ));
    }
    // The schema's own depth check walks the expanded document; refused
    // here, a document nested past the bound is never walked.
    if depth > limits.max_depth {
        return Err((
            ErrorCode::TooDeep,
            format!(
                "the query is nested {depth} deep with its fragments expanded; at most {}",
                limits.max_depth
            ),
        ));
    }
    if introspection > INTROSPECTION_DEPTH {
        return Err((
            ErrorCode::TooDeep,
            format!(
                "the introspection is nested {introspection} deep with its fragments expanded; \
                 at most {INTROSPECTION_DEPTH}"
            ),
        ));
    }
    if selections > limits.max_selections {
        return Err((
            ErrorCode::TooManySelections,
            format!(
                "the document selects {} fields or more with its fragments expanded; at most {}",
                selections.min(limits.max_selections.saturating_add(1)),
                limits.max_selections
            ),
        ));
    }
    Ok(())
}

/// Checks the operation a request runs against the aliases and root-fields
/// bounds, counted with every fragment spread where it is spread, and its
/// variables against their declared types. The document's own bounds
/// ([`check_document`]) are checked first.
pub(crate) fn admit(
    doc: &ExecutableDocument,
    name: Option<&str>,
    variables: Option<&Map<String, Value>>,
    limits: &Limits,
) -> Result<(), (ErrorCode, String)> {
    check_document(doc, limits)?;
    let Some(op) = chosen(doc, name) else {
        // No operation to run: the execution answers why.
        return Ok(());
    };
    let counted = Expander::new(&doc.fragments).count(&op.node.selection_set.node);
    let mut roots = std::collections::HashSet::new();
    root_keys(doc, &op.node.selection_set.node, &mut roots);
    if counted.aliases > limits.max_aliases {
        return Err((
            ErrorCode::TooManyAliases,
            format!(
                "the operation uses {} aliases, fragments expanded; at most {}",
                counted.aliases, limits.max_aliases
            ),
        ));
    }
    if roots.len() > limits.max_root_fields {
        return Err((
            ErrorCode::TooManyRootFields,
            format!(
                "the operation selects {} root fields, fragments expanded; at most {}",
                roots.len(),
                limits.max_root_fields
            ),
        ));
    }
    check_variables(&op.node, variables).map_err(|m| (ErrorCode::InvalidInput, m))?;
    check_representations(doc, &op.node.selection_set.node, variables, limits)
}

/// Checks what the operation gives `_entities`, before anything is
/// loaded: at most `limits.max_representations` in all its `_entities`
/// fields, each an entity of this subgraph with a well-formed key.
fn check_representations(
    doc: &ExecutableDocument,
    root: &SelectionSet,
    variables: Option<&Map<String, Value>>,
    limits: &Limits,
) -> Result<(), (ErrorCode, String)> {
    let mut fields = Vec::new();
    root_fields(doc, root, &mut fields, &mut Default::default());
    let mut given = 0usize;
    for field in fields.iter().filter(|f| f.name.node == "_entities") {
        let Some(arg) = field.get_argument("representations") else {
            continue;
        };
        let value = match &arg.node {
            GqlValue::Variable(name) => {
                match variables.and_then(|v| v.get(name.as_str())) {
                    Some(v) => v.clone(),
                    // Missing: the schema's validation says so.
                    None => continue,
                }
            }
            // Written in the document, variables inside it read.
            literal => literal
                .clone()
                .into_const_with(|name| {
                    let given = variables.and_then(|v| v.get(name.as_str())).cloned();
                    async_graphql::Value::from_json(given.unwrap_or(Value::Null))
                })
                .ok()
                .and_then(|v| v.into_json().ok())
                .unwrap_or(Value::Null),
        };
        let items = match value {
            Value::Array(items) => items,
            // A single value stands for a list of one.
            Value::Null => continue,
            one => vec![one],
        };
        given = given.saturating_add(items.len());
        if given > limits.max_representations {
            return Err((
                ErrorCode::TooManyRepresentations,
                format!(
                    "_entities is given {given} representations or more; at most {} in one \
                     operation: split the fetch",
                    limits.max_representations
                ),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            crate::graphql::entities::check_representation(item).map_err(|why| {
                (
                    ErrorCode::InvalidRepresentation,
                    format!("representations[{i}] {why}"),
                )
            })?;
        }
    }
    Ok(())
}

/// The fields an operation's root selects, fragments expanded. A fragment
/// spread twice selects the same fields, which run once: each is visited
/// once (and a cycle, which the schema's validation refuses, stops).
pub(crate) fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<&'a async_graphql::parser::types::Field>,
    visited: &mut std::collections::HashSet<&'a str>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(&f.node),
            Selection::InlineFragment(i) => {
                root_fields(doc, &i.node.selection_set.node, out, visited)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if !visited.insert(name) {
                    continue;
                }
                if let Some(f) = doc.fragments.get(name) {
                    root_fields(doc, &f.node.selection_set.node, out, visited);
                }
            }
        }
    }
}

/// The response keys an operation's root selects, fragments expanded: the
/// root fields it runs (a key selected twice runs once).
fn root_keys<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut std::collections::HashSet<&'a str>,
) {
    let mut fields = Vec::new();
    root_fields(doc, set, &mut fields, &mut Default::default());
    keys.extend(fields.iter().map(|f| f.response_key().node.as_str()));
}

/// How deep fragments may spread fragments.
const MAX_SPREAD_DEPTH: usize = 32;

/// How deep an introspection (`__schema`, `__type` at the root) may nest,
/// on its own terms rather than `max_depth`'s: graphql-js's
/// `getIntrospectionQuery`, with every option, nests `ofType` nine deep
/// under `__schema { types { fields { args { type } } } }`, 15 levels in
/// all; GraphiQL, codegen and every client that loads a schema send it.
/// Introspection fields only: a field of the schema's own types counts
/// against `max_depth`, wherever it is.
pub(crate) const INTROSPECTION_DEPTH: usize = 16;

/// The root fields that introspect the schema.
fn introspects(field: &str) -> bool {
    matches!(field, "__schema" | "__type")
}

/// Whether `op` introspects the schema (`__schema` or `__type` among the
/// root fields it runs, fragments expanded).
pub(crate) fn introspection(doc: &ExecutableDocument, op: &OperationDefinition) -> bool {
    let mut fields = Vec::new();
    root_fields(
        doc,
        &op.selection_set.node,
        &mut fields,
        &mut Default::default(),
    );
    fields.iter().any(|f| introspects(f.name.node.as_str()))
}

/// What a selection set selects, its fragments expanded.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counted {
    /// Aliases, at every level, counted wherever their fragment is spread.
    aliases: usize,
    /// Field selections, at every level, counted wherever their fragment
    /// is spread.
    fields: usize,
    /// How deep fields nest, fragments expanded, introspections apart.
    depth: usize,
    /// How deep introspections (`__schema`, `__type`) nest, where they
    /// are selected directly: elsewhere they count in `depth`.
    introspection: usize,
}

impl Counted {
    fn add(&mut self, other: Counted) {
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
        self.depth = self.depth.max(other.depth);
        self.introspection = self.introspection.max(other.introspection);
    }

    /// The count of a field over `inner`, what its selection set counts:
    /// an introspection's depth apart from the rest, whatever is nested in
    /// another field in the depth of that field.
    fn field(name: &str, aliased: bool, inner: Counted) -> Counted {
        let nested = inner.depth.max(inner.introspection).saturating_add(1);
        let (depth, introspection) = if introspects(name) {
            (0, nested)
        } else {
            (nested, 0)
        };
        Counted {
            aliases: inner.aliases.saturating_add(usize::from(aliased)),
            fields: inner.fields.saturating_add(1),
            depth,
            introspection,
        }
    }
}

/// Counts selections with fragments expanded; each fragment is counted
/// once and its count reused wherever it is spread, so that a document of
/// fragments spreading fragments costs no more than its size to count.
/// Counts saturate: nothing is allocated for what a count stands for.
struct Expander<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Fragments counted (`None` while being counted: a cycle, which the
    /// schema's validation refuses, counts nothing here).
    memo: HashMap<&'a str, Option<Counted>>,
    /// How many fragments are being counted, one inside the other.
    spreading: usize,
    /// Whether fragments spread fragments deeper than `MAX_SPREAD_DEPTH`
    /// (the count stops descending there).
    spread_too_deep: bool,
    /// The most directives seen on one selection.
    directives: usize,
}

impl<'a> Expander<'a> {
    fn new(fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>) -> Self {
        Self {
            fragments,
            memo: HashMap::new(),
            spreading: 0,
            spread_too_deep: false,
            directives: 0,
        }
    }

    fn count(&mut self, set: &'a SelectionSet) -> Counted {
        let mut counted = Counted::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    self.directives = self.directives.max(f.node.directives.len());
                    let inner = self.count(&f.node.selection_set.node);
                    counted.add(Counted::field(
                        f.node.name.node.as_str(),
                        f.node.alias.is_some(),
                        inner,
                    ));
                }
                Selection::InlineFragment(i) => {
                    self.directives = self.directives.max(i.node.directives.len());
                    counted.add(self.count(&i.node.selection_set.node))
                }
                Selection::FragmentSpread(s) => {
                    self.directives = self.directives.max(s.node.directives.len());
                    counted.add(self.fragment(s.node.fragment_name.node.as_str()))
                }
            }
        }
        counted
    }

    fn fragment(&mut self, name: &'a str) -> Counted {
        match self.memo.get(name) {
            Some(Some(c)) => return *c,
            Some(None) => return Counted::default(),
            None => {}
        }
        if self.spreading >= MAX_SPREAD_DEPTH {
            self.spread_too_deep = true;
            return Counted::default();
        }
        self.memo.insert(name, None);
        self.spreading += 1;
        let counted = match self.fragments.get(name) {
            Some(f) => self.count(&f.node.selection_set.node),
            None => Counted::default(),
        };
        self.spreading -= 1;
        self.memo.insert(name, Some(counted));
        counted
    }
}

/// Checks the variables a request gives against the operation's
/// definitions, as the specification's CoerceVariableValues does: a
/// required variable must be given (and not null), and a value of a
/// built-in scalar type must be one. Enums, input objects and custom
/// scalars are checked by the execution, which reads them.
fn check_variables(
    op: &OperationDefinition,
    variables: Option<&Map<String, Value>>,
) -> Result<(), String> {
    for def in &op.variable_definitions {
        let name = def.node.name.node.as_str();
        let ty = &def.node.var_type.node;
        match variables.and_then(|v| v.get(name)) {
            None if !ty.nullable && def.node.default_value.is_none() => {
                return Err(format!(
                    "variable ${name} of type {ty} is required and was not given"
                ))
            }
            None => {}
            Some(value) => check_value(name, ty, value)?,
        }
    }
    Ok(())
}

fn check_value(name: &str, ty: &Type, value: &Value) -> Result<(), String> {
    if value.is_null() {
        return if ty.nullable {
            Ok(())
        } else {
            Err(format!("variable ${name} of type {ty} cannot be null"))
        };
    }
    match &ty.base {
        // A single value stands for a list of one.
        BaseType::List(inner) => match value {
            Value::Array(items) => items.iter().try_for_each(|v| check_value(name, inner, v)),
            v => check_value(name, inner, v),
        },
        BaseType::Named(scalar) => {
            let fits = match scalar.as_str() {
                "Int" => value.as_f64().is_some_and(|n| {
                    n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n)
                }),
                "Float" => value.is_number(),
                "String" => value.is_string(),
                "Boolean" => value.is_boolean(),
                "ID" => value.is_string() || value.is_i64() || value.is_u64(),
                _ => true,
            };
            if fits {
                Ok(())
            } else {
                let what = match scalar.as_str() {
                    "Int" => "an Int (a whole number from -2147483648 to 2147483647)",
                    "Float" => "a Float",
                    "String" => "a String",
                    "Boolean" => "a Boolean",
                    _ => "an ID (a string or a whole number)",
                };
                Err(format!("variable ${name}: {value} is not {what}"))
            }
        }
    }
}

#[cfg(test)]
mod tests;
