//! The book's GraphQL reference (`docs/src/reference/graphql.md`), written
//! from the SDL's own descriptions so that it cannot drift from the schema:
//! every type by kind, its fields with their types linked, arguments,
//! defaults and deprecations. `passerelle schema --book` prints it; a test
//! checks that the committed page is the one the committed SDL gives.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeDefinition,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::Positioned;

/// The kinds of type, in the order the page gives them, with their
/// headings.
const PARTS: [(&str, &str); 7] = [
    ("root", "The roots"),
    ("object", "Objects"),
    ("interface", "Interfaces"),
    ("union", "Unions"),
    ("input", "Inputs"),
    ("enum", "Enums"),
    ("scalar", "Scalars"),
];

/// The roots of operations, in the order the page gives them.
const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];

/// The book's page for `sdl`. Names starting with `_` (Federation's
/// `_service`, `_entities` and their types) are left to the supergraph's
/// chapter.
pub fn reference_markdown(sdl: &str) -> Result<String, String> {
    let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
    let types: Vec<&TypeDefinition> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(&t.node),
            _ => None,
        })
        .filter(|t| !t.name.node.starts_with('_'))
        .collect();
    let known: BTreeSet<&str> = types.iter().map(|t| t.name.node.as_str()).collect();
    let mut out = String::from(
        "# The GraphQL API, type by type\n\n\
         Every type of the schema (`schema/passerelle.graphql`), as its descriptions say. \
         This page is written from the schema by `passerelle schema --book`: change the \
         descriptions in the code, not here. Federation's own fields and types are in \
         [Serve Passerelle as a subgraph](../supergraph/subgraph.md).\n",
    );
    for (kind, heading) in PARTS {
        let mut of_kind: Vec<&&TypeDefinition> =
            types.iter().filter(|t| kind_of(t) == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        of_kind.sort_by_key(|t| {
            let name = t.name.node.as_str();
            (ROOTS.iter().position(|r| *r == name), name.to_owned())
        });
        let _ = write!(out, "\n## {heading}\n");
        for t in of_kind {
            write_type(&mut out, t, &known);
        }
    }
    Ok(out)
}

/// Which part of the page a type is in.
fn kind_of(t: &TypeDefinition) -> &'static str {
    match &t.kind {
        TypeKind::Object(_) if ROOTS.contains(&t.name.node.as_str()) => "root",
        TypeKind::Object(_) => "object",
        TypeKind::Interface(_) => "interface",
        TypeKind::Union(_) => "union",
        TypeKind::InputObject(_) => "input",
        TypeKind::Enum(_) => "enum",
        TypeKind::Scalar => "scalar",
    }
}

fn write_type(out: &mut String, t: &TypeDefinition, known: &BTreeSet<&str>) {
    let _ = write!(out, "\n### {}\n\n", t.name.node);
    if let Some(d) = &t.description {
        let _ = write!(out, "{}\n\n", d.node.trim());
    }
    match &t.kind {
        TypeKind::Object(o) => {
            implements(out, &o.implements, known);
            fields(out, &o.fields, known);
        }
        TypeKind::Interface(i) => {
            implements(out, &i.implements, known);
            fields(out, &i.fields, known);
        }
        TypeKind::Union(u) => {
            let members: Vec<String> = u.members.iter().map(|m| link(&m.node, known)).collect();
            let _ = writeln!(out, "One of {}.", members.join(", "));
        }
        TypeKind::InputObject(i) => {
            for f in &i.fields {
                input_value(out, &f.node, known, "");
            }
        }
        TypeKind::Enum(e) => {
            for v in &e.values {
                let _ = write!(out, "- **`{}`**", v.node.value.node);
                describe(out, v.node.description.as_ref().map(|d| d.node.as_str()));
                deprecation(out, &v.node.directives, "  ");
            }
        }
        TypeKind::Scalar => {}
    }
}

fn implements(
    out: &mut String,
    interfaces: &[Positioned<async_graphql::Name>],
    known: &BTreeSet<&str>,
) {
    if interfaces.is_empty() {
        return;
    }
    let names: Vec<String> = interfaces.iter().map(|i| link(&i.node, known)).collect();
    let _ = write!(out, "Implements {}.\n\n", names.join(", "));
}

fn fields(out: &mut String, fields: &[Positioned<FieldDefinition>], known: &BTreeSet<&str>) {
    for f in fields.iter().filter(|f| !f.node.name.node.starts_with('_')) {
        let f = &f.node;
        let _ = write!(
            out,
            "- **`{}`**: {}",
            f.name.node,
            type_of(&f.ty.node, known)
        );
        describe(out, f.description.as_ref().map(|d| d.node.as_str()));
        deprecation(out, &f.directives, "  ");
        for a in &f.arguments {
            input_value(out, &a.node, known, "  ");
        }
    }
}

/// An argument or an input field, with its default.
fn input_value(out: &mut String, v: &InputValueDefinition, known: &BTreeSet<&str>, indent: &str) {
    let _ = write!(
        out,
        "{indent}- `{}`: {}",
        v.name.node,
        type_of(&v.ty.node, known)
    );
    if let Some(d) = &v.default_value {
        let _ = write!(out, " = `{}`", d.node);
    }
    describe(out, v.description.as_ref().map(|d| d.node.as_str()));
    deprecation(out, &v.directives, &format!("{indent}  "));
}

/// A description after its item, on one line.
fn describe(out: &mut String, description: Option<&str>) {
    match description {
        Some(d) => {
            let one_line: Vec<&str> = d.split_whitespace().collect();
            let _ = writeln!(out, ": {}", one_line.join(" "));
        }
        None => out.push('\n'),
    }
}

/// `@deprecated`, with its reason, under the item it marks.
fn deprecation(out: &mut String, directives: &[Positioned<ConstDirective>], indent: &str) {
    for d in directives
        .iter()
        .filter(|d| d.node.name.node == "deprecated")
    {
        let reason = d
            .node
            .get_argument("reason")
            .and_then(|r| match &r.node {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "no longer supported".into());
        let _ = writeln!(out, "{indent}- *Deprecated*: {reason}");
    }
}

/// A type as GraphQL writes it, its named type linked to its section.
fn type_of(ty: &Type, known: &BTreeSet<&str>) -> String {
    let inner = match &ty.base {
        BaseType::Named(name) => link(name, known),
        BaseType::List(item) => format!("\\[{}\\]", type_of(item, known)),
    };
    if ty.nullable {
        inner
    } else {
        format!("{inner}!")
    }
}

/// A type's name, linked to its section when the page has one (the
/// built-in scalars have none).
fn link(name: &str, known: &BTreeSet<&str>) -> String {
    if known.contains(name) {
        format!("[`{name}`](#{})", name.to_lowercase())
    } else {
        format!("`{name}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
"""The root."""
type Query {
  """Offers, newest first."""
  offers(
    """How many."""
    first: Int = 20
  ): [Offer!]!
  old: String @deprecated(reason: "read `offers`")
  _service: String
}

"""An offer."""
type Offer implements Node {
  id: ID!
  level: Level
}

interface Node { id: ID! }

enum Level {
  """A CAP."""
  CAP
}
"#;

    #[test]
    fn every_type_is_described_with_its_fields_linked() {
        let page = reference_markdown(SDL).unwrap();
        assert!(page.contains("\n### Query\n\nThe root.\n"), "{page}");
        assert!(
            page.contains(
                "- **`offers`**: \\[[`Offer`](#offer)!\\]!: Offers, newest first.\n  - `first`: `Int` = `20`: How many.\n"
            ),
            "{page}"
        );
        assert!(page.contains("  - *Deprecated*: read `offers`\n"), "{page}");
        assert!(page.contains("Implements [`Node`](#node)."), "{page}");
        assert!(page.contains("- **`CAP`**: A CAP.\n"), "{page}");
        assert!(!page.contains("_service"), "{page}");
        let order: Vec<usize> = ["## The roots", "## Objects", "## Interfaces", "## Enums"]
            .iter()
            .map(|h| page.find(h).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{page}");
    }
}
