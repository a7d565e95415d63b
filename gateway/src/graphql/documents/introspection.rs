//! What introspection answers that the engine does not answer as this
//! gateway means: the schema's description, and the subgraph's SDL when it
//! is served without its scope directives.

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection};
use async_graphql::{Name, Value};

use crate::graphql::documents::shape;

/// Where an operation asks `__schema { description }`, and
/// `_service { sdl }` when the subgraph is served without its scope
/// directives: each root key of the answer with the keys the field is
/// answered under. The engine answers the built-in `__Schema` type's own
/// description there, which graphql-js's `buildClientSchema` then prints as
/// the schema's; this schema has none, so the answer is `null`. Found in
/// the document, so that only the operations asking pay for it.
#[derive(Debug, Default)]
pub(crate) struct Rewrites {
    description: Vec<(Name, Vec<Name>)>,
    service_sdl: Vec<(Name, Vec<Name>)>,
}

impl Rewrites {
    /// Where `op` asks what is rewritten; `_service { sdl }` only when
    /// `scopes` is off.
    pub(crate) fn of(doc: &ExecutableDocument, op: &OperationDefinition, scopes: bool) -> Self {
        let mut roots = Vec::new();
        shape::root_fields(
            doc,
            &op.selection_set.node,
            &mut roots,
            &mut Default::default(),
        );
        let asked = |root: &str, field: &str| -> Vec<(Name, Vec<Name>)> {
            roots
                .iter()
                .filter(|f| f.name.node == root)
                .map(|f| {
                    let mut keys = Vec::new();
                    selected(doc, &f.selection_set.node, field, &mut keys, 0);
                    (f.response_key().node.clone(), keys)
                })
                .filter(|(_, keys)| !keys.is_empty())
                .collect()
        };
        Self {
            description: asked("__schema", "description"),
            service_sdl: if scopes {
                Vec::new()
            } else {
                asked("_service", "sdl")
            },
        }
    }

    /// Rewrites the answer's `data`.
    pub(crate) fn apply(&self, data: &mut Value) {
        let Value::Object(root) = data else { return };
        let mut each = |asked: &[(Name, Vec<Name>)], rewrite: &dyn Fn(&mut Value)| {
            for (parent, keys) in asked {
                if let Some(Value::Object(fields)) = root.get_mut(parent) {
                    for key in keys {
                        if let Some(v) = fields.get_mut(key) {
                            rewrite(v);
                        }
                    }
                }
            }
        };
        each(&self.description, &|v| *v = Value::Null);
        each(&self.service_sdl, &|v| {
            if let Value::String(sdl) = v {
                *sdl = without_scopes(sdl);
            }
        });
    }
}

/// A subgraph SDL without `@requiresScopes`, for routers that do not
/// enforce it and refuse to load a supergraph that has it
/// (`@apollo/gateway`): every use of the directive, and its import.
/// Passerelle checks every scope itself either way.
pub fn without_scopes(sdl: &str) -> String {
    const USE: &str = " @requiresScopes(";
    let mut out = String::with_capacity(sdl.len());
    let mut rest = sdl;
    while let Some(at) = rest.find(USE) {
        out.push_str(&rest[..at]);
        // The arguments end at the parenthesis that closes the first: the
        // scopes are quoted names, without parentheses.
        let args = &rest[at + USE.len()..];
        match args.find(')') {
            Some(end) => rest = &args[end + 1..],
            None => {
                rest = args;
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace(", \"@requiresScopes\"", "")
        .replace("\"@requiresScopes\", ", "")
}

/// The response keys of the `field` fields `set` selects, through its
/// fragments (spread at most a few deep: the document's bounds are
/// checked before).
fn selected(
    doc: &ExecutableDocument,
    set: &async_graphql::parser::types::SelectionSet,
    field: &str,
    keys: &mut Vec<Name>,
    spreads: usize,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) if f.node.name.node == field => {
                keys.push(f.node.response_key().node.clone())
            }
            Selection::Field(_) => {}
            Selection::InlineFragment(i) => {
                selected(doc, &i.node.selection_set.node, field, keys, spreads)
            }
            Selection::FragmentSpread(s) if spreads < 8 => {
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    selected(doc, &f.node.selection_set.node, field, keys, spreads + 1);
                }
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_description_is_null_wherever_it_is_asked() {
        let doc = async_graphql::parser::parse_query(
            "{ s: __schema { d: description ...D queryType { description } } \
             __schema { ... on __Schema { description } } } \
             fragment D on __Schema { description }",
        )
        .unwrap();
        let op = shape::chosen(&doc, None).unwrap();
        let fix = Rewrites::of(&doc, &op.node, true);
        let mut data = Value::from_json(serde_json::json!({
            "s": { "d": "built-in", "description": "built-in", "queryType": { "description": "q" } },
            "__schema": { "description": "built-in" }
        }))
        .unwrap();
        fix.apply(&mut data);
        assert_eq!(
            data.into_json().unwrap(),
            serde_json::json!({
                "s": { "d": null, "description": null, "queryType": { "description": "q" } },
                "__schema": { "description": null }
            })
        );
    }
}

#[cfg(test)]
mod sdl_tests {
    use super::*;

    #[test]
    fn the_subgraph_without_scopes_keeps_everything_else() {
        let sdl = crate::graphql::federation_sdl();
        assert!(sdl.contains("@requiresScopes"));
        let plain = without_scopes(&sdl);
        assert!(!plain.contains("requiresScopes"), "{plain}");
        assert!(plain.contains("\"@key\""));
        // Only the directives went: the lines without them are the same,
        // and those with them are what comes before and after them.
        assert_eq!(plain.lines().count(), sdl.lines().count());
        for (a, b) in plain.lines().zip(sdl.lines()) {
            match b.find(" @requiresScopes(") {
                None if !b.contains("requiresScopes") => assert_eq!(a, b),
                None => assert!(!a.contains("requiresScopes")),
                Some(at) => {
                    assert!(a.starts_with(&b[..at]), "{a}");
                    assert!(b.ends_with(&a[at..]), "{a}");
                }
            }
        }
        // Served as `_service { sdl }` answers it.
        let doc = async_graphql::parser::parse_query("{ s: _service { sdl } }").unwrap();
        let op = shape::chosen(&doc, None).unwrap();
        let mut data =
            Value::from_json(serde_json::json!({ "s": { "sdl": sdl.clone() } })).unwrap();
        Rewrites::of(&doc, &op.node, true).apply(&mut data);
        assert_eq!(data.clone().into_json().unwrap()["s"]["sdl"], sdl);
        Rewrites::of(&doc, &op.node, false).apply(&mut data);
        assert_eq!(data.into_json().unwrap()["s"]["sdl"], plain);
    }
}
