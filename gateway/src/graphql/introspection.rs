//! What introspection answers that the engine does not answer right.

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection};
use async_graphql::{Name, Value};

use super::shape;

/// Where an operation asks `__schema { description }`: each `__schema`
/// key of its answer with the keys its `description` is answered under.
/// The engine answers the built-in `__Schema` type's own description
/// there, which graphql-js's `buildClientSchema` then prints as the
/// schema's; this schema has none, so the answer is `null`. Found in the
/// document, so that only the operations asking it pay for it.
#[derive(Debug, Default)]
pub(crate) struct SchemaDescription(Vec<(Name, Vec<Name>)>);

impl SchemaDescription {
    /// Where `op` asks the schema's description.
    pub(crate) fn of(doc: &ExecutableDocument, op: &OperationDefinition) -> Self {
        let mut roots = Vec::new();
        shape::root_fields(
            doc,
            &op.selection_set.node,
            &mut roots,
            &mut Default::default(),
        );
        let asked = roots
            .iter()
            .filter(|f| f.name.node == "__schema")
            .map(|f| {
                let mut keys = Vec::new();
                descriptions(doc, &f.selection_set.node, &mut keys, 0);
                (f.response_key().node.clone(), keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect();
        Self(asked)
    }

    /// Answers `null` where the schema's description was asked.
    pub(crate) fn apply(&self, data: &mut Value) {
        let Value::Object(root) = data else { return };
        for (schema, keys) in &self.0 {
            if let Some(Value::Object(fields)) = root.get_mut(schema) {
                for key in keys {
                    if let Some(v) = fields.get_mut(key) {
                        *v = Value::Null;
                    }
                }
            }
        }
    }
}

/// The response keys of the `description` fields `set` selects on
/// `__Schema`, through its fragments (spread at most a few deep: the
/// document's bounds are checked before).
fn descriptions(
    doc: &ExecutableDocument,
    set: &async_graphql::parser::types::SelectionSet,
    keys: &mut Vec<Name>,
    spreads: usize,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) if f.node.name.node == "description" => {
                keys.push(f.node.response_key().node.clone())
            }
            Selection::Field(_) => {}
            Selection::InlineFragment(i) => {
                descriptions(doc, &i.node.selection_set.node, keys, spreads)
            }
            Selection::FragmentSpread(s) if spreads < 8 => {
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    descriptions(doc, &f.node.selection_set.node, keys, spreads + 1);
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
        let fix = SchemaDescription::of(&doc, &op.node);
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
