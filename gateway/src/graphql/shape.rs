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

use super::errors::ErrorCode;
use crate::config::Limits;

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

/// Checks the operation a request runs against the aliases and root-fields
/// bounds, counted with every fragment spread where it is spread, and its
/// variables against their declared types.
pub(crate) fn admit(
    doc: &ExecutableDocument,
    name: Option<&str>,
    variables: Option<&Map<String, Value>>,
    limits: &Limits,
) -> Result<(), (ErrorCode, String)> {
    let Some(op) = chosen(doc, name) else {
        // No operation to run: the execution answers why.
        return Ok(());
    };
    let mut expander = Expander {
        fragments: &doc.fragments,
        memo: HashMap::new(),
    };
    let counted = expander.count(&op.node.selection_set.node);
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
    root_fields(doc, root, &mut fields, 0);
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
            super::entities::check_representation(item).map_err(|why| {
                (
                    ErrorCode::InvalidRepresentation,
                    format!("representations[{i}] {why}"),
                )
            })?;
        }
    }
    Ok(())
}

/// The fields an operation's root selects, fragments expanded.
fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<&'a async_graphql::parser::types::Field>,
    spreads: usize,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(&f.node),
            Selection::InlineFragment(i) => {
                root_fields(doc, &i.node.selection_set.node, out, spreads)
            }
            // Fragments spreading one another in a cycle are refused by
            // the schema's validation; here they stop at a depth.
            Selection::FragmentSpread(s) if spreads < 64 => {
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    root_fields(doc, &f.node.selection_set.node, out, spreads + 1);
                }
            }
            Selection::FragmentSpread(_) => {}
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
    root_fields(doc, set, &mut fields, 0);
    keys.extend(fields.iter().map(|f| f.response_key().node.as_str()));
}

/// What a selection set selects, its fragments expanded.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counted {
    /// Aliases, at every level, counted wherever their fragment is spread.
    aliases: usize,
}

impl Counted {
    fn add(&mut self, other: Counted) {
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

/// Counts selections with fragments expanded; each fragment is counted
/// once and its count reused wherever it is spread, so that a document of
/// fragments spreading fragments costs no more than its size to count.
struct Expander<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Fragments counted (`None` while being counted: a cycle, which the
    /// schema's validation refuses, counts nothing here).
    memo: HashMap<&'a str, Option<Counted>>,
}

impl<'a> Expander<'a> {
    fn count(&mut self, set: &'a SelectionSet) -> Counted {
        let mut counted = Counted::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let inner = self.count(&f.node.selection_set.node);
                    counted.add(Counted {
                        aliases: inner
                            .aliases
                            .saturating_add(usize::from(f.node.alias.is_some())),
                    });
                }
                Selection::InlineFragment(i) => counted.add(self.count(&i.node.selection_set.node)),
                Selection::FragmentSpread(s) => {
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
        self.memo.insert(name, None);
        let counted = match self.fragments.get(name) {
            Some(f) => self.count(&f.node.selection_set.node),
            None => Counted::default(),
        };
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
mod tests {
    use super::*;

    fn admitted(query: &str, variables: Value) -> Result<(), ErrorCode> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let limits = Limits::default();
        admit(&doc, None, variables.as_object(), &limits).map_err(|(code, _)| code)
    }

    fn many(prefix: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{prefix}{i}: partners {{ id }} "))
            .collect()
    }

    #[test]
    fn root_fields_are_counted_through_fragments() {
        let limit = Limits::default().max_root_fields;
        let over = many("r", limit + 1);
        let under = many("r", limit);
        let spread = format!("{{ ...R }} fragment R on Query {{ {over} }}");
        assert_eq!(
            admitted(&spread, Value::Null),
            Err(ErrorCode::TooManyRootFields)
        );
        let inline = format!("{{ ... on Query {{ {over} }} }}");
        assert_eq!(
            admitted(&inline, Value::Null),
            Err(ErrorCode::TooManyRootFields)
        );
        assert!(admitted(&format!("{{ {under} }}"), Value::Null).is_ok());
        // Two fragments of half the fields each add up; a fragment spread
        // twice runs its fields once.
        let first = many("a", limit / 2 + 1);
        let second = many("b", limit / 2 + 1);
        let halves = format!(
            "{{ ...A ...B }} fragment A on Query {{ {first} }} fragment B on Query {{ {second} }}"
        );
        assert_eq!(
            admitted(&halves, Value::Null),
            Err(ErrorCode::TooManyRootFields)
        );
        let twice = format!(
            "{{ ...A ...A }} fragment A on Query {{ {} }}",
            many("a", limit / 2 + 1)
        );
        assert!(admitted(&twice, Value::Null).is_ok());
    }

    #[test]
    fn aliases_are_counted_where_a_fragment_is_spread() {
        let limit = Limits::default().max_aliases;
        let aliases: String = (0..limit / 2 + 1).map(|i| format!("a{i}: id ")).collect();
        let query = format!(
            "{{ partners {{ ...P }} more: partners {{ ...P }} }} fragment P on Partner {{ {aliases} }}"
        );
        assert_eq!(
            admitted(&query, Value::Null),
            Err(ErrorCode::TooManyAliases)
        );
        // Nested spreads are counted once each and multiplied, not walked.
        let mut doc = String::from("{ partners { ...F0 } }");
        for i in 0..40 {
            doc.push_str(&format!(
                " fragment F{i} on Partner {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        doc.push_str(" fragment F40 on Partner { x: id }");
        assert_eq!(admitted(&doc, Value::Null), Err(ErrorCode::TooManyAliases));
    }

    #[test]
    fn required_and_mistyped_variables_are_refused_before_running() {
        let q = "query($first: Int!, $dep: String, $ids: [ID!]) { offers(first: $first) { totalCount } }";
        assert!(admitted(q, serde_json::json!({ "first": 3 })).is_ok());
        assert!(admitted(q, serde_json::json!({ "first": 3, "ids": ["a", 2] })).is_ok());
        assert!(admitted(q, serde_json::json!({ "first": 3, "ids": "a" })).is_ok());
        for bad in [
            serde_json::json!({}),
            serde_json::json!({ "first": null }),
            serde_json::json!({ "first": 4_294_967_296_i64 }),
            serde_json::json!({ "first": 1.5 }),
            serde_json::json!({ "first": "3" }),
            serde_json::json!({ "first": 3, "dep": 14 }),
            serde_json::json!({ "first": 3, "ids": [null] }),
            serde_json::json!({ "first": 3, "ids": [true] }),
        ] {
            assert_eq!(
                admitted(q, bad.clone()),
                Err(ErrorCode::InvalidInput),
                "{bad}"
            );
        }
        let defaulted = "query($first: Int! = 5) { offers(first: $first) { totalCount } }";
        assert!(admitted(defaulted, serde_json::json!({})).is_ok());
        assert!(admitted(defaulted, serde_json::json!({ "first": null })).is_err());
    }
}
