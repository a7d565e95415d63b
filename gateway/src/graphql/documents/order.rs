//! The order of an answer's fields. Fields resolve concurrently and the
//! engine keeps them in the order they complete; the specification orders
//! them as the document selects them, and clients and snapshot tests rely
//! on it. A plan of the response keys, built from the document with its
//! fragments expanded, puts every object of the answer back in that order.

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// The largest plan built: selections past it leave the answer as it is
/// (the schema's complexity bound refuses such documents anyway).
const MAX_SELECTIONS: usize = 20_000;

/// How deep fragments may spread fragments in a plan.
const MAX_SPREADS: usize = 64;

/// The response keys of a selection, in document order, each with the plan
/// of the selections beneath it (merged over every field of that key).
#[derive(Debug, Default)]
pub(crate) struct Plan {
    keys: Vec<(Name, Plan)>,
}

impl Plan {
    /// The plan of `op`'s answer; `None` for a document too large to plan.
    pub(crate) fn of(doc: &ExecutableDocument, op: &OperationDefinition) -> Option<Self> {
        let mut plan = Self::default();
        let mut budget = MAX_SELECTIONS;
        plan.add(doc, &op.selection_set.node, &mut budget, 0)?;
        Some(plan)
    }

    fn add(
        &mut self,
        doc: &ExecutableDocument,
        set: &SelectionSet,
        budget: &mut usize,
        spreads: usize,
    ) -> Option<()> {
        for item in &set.items {
            *budget = budget.checked_sub(1)?;
            match &item.node {
                Selection::Field(f) => {
                    let key = &f.node.response_key().node;
                    let i = match self.keys.iter().position(|(k, _)| k == key) {
                        Some(i) => i,
                        None => {
                            self.keys.push((key.clone(), Self::default()));
                            self.keys.len() - 1
                        }
                    };
                    self.keys[i]
                        .1
                        .add(doc, &f.node.selection_set.node, budget, spreads)?;
                }
                Selection::InlineFragment(i) => {
                    self.add(doc, &i.node.selection_set.node, budget, spreads)?
                }
                Selection::FragmentSpread(s) => {
                    if spreads >= MAX_SPREADS {
                        return None;
                    }
                    if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                        self.add(doc, &f.node.selection_set.node, budget, spreads + 1)?;
                    }
                }
            }
        }
        Some(())
    }

    fn position(&self, key: &Name) -> usize {
        self.keys
            .iter()
            .position(|(k, _)| k == key)
            .unwrap_or(usize::MAX)
    }

    /// Puts every object of `value` in the plan's order.
    pub(crate) fn apply(&self, value: &mut Value) {
        match value {
            Value::Object(map) if !self.keys.is_empty() => {
                // One look-up of each key: where it goes, and its plan.
                let mut last = 0;
                let mut in_order = true;
                for (key, child) in map.iter_mut() {
                    let p = self.position(key);
                    in_order &= p >= last;
                    last = p;
                    if let Some((_, plan)) = self.keys.get(p) {
                        plan.apply(child);
                    }
                }
                if !in_order {
                    map.sort_by(|a, _, b, _| self.position(a).cmp(&self.position(b)));
                }
            }
            Value::List(items) => items.iter_mut().for_each(|v| self.apply(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: serde_json::Value) -> Value {
        Value::from_json(json).unwrap()
    }

    #[test]
    fn objects_follow_the_document_through_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "{ offers { ...O nodes { title id } } f: formations { totalCount } partners { id } } \
             fragment O on OfferConnection { totalCount }",
        )
        .unwrap();
        let op = crate::graphql::documents::shape::chosen(&doc, None).unwrap();
        let plan = Plan::of(&doc, &op.node).unwrap();
        let mut answer = value(serde_json::json!({
            "partners": [{ "id": "cci" }],
            "f": { "totalCount": 2 },
            "offers": { "nodes": [{ "id": "1", "title": "a" }, { "id": "2", "title": "b" }], "totalCount": 2 }
        }));
        plan.apply(&mut answer);
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"offers":{"totalCount":2,"nodes":[{"title":"a","id":"1"},{"title":"b","id":"2"}]},"f":{"totalCount":2},"partners":[{"id":"cci"}]}"#
        );
    }
}
