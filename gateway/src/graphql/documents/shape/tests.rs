//! The bounds of documents, checked on documents that pass and that do not.

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
    assert_eq!(
        admitted(&chain("Partner", 10, "x: id"), Value::Null),
        Err(ErrorCode::TooManyAliases)
    );
}

/// `{ partners { ...F0 } }` and `n` fragments on `on`, each spreading
/// the next twice, the last selecting `last`.
fn chain(on: &str, n: usize, last: &str) -> String {
    let mut doc = String::from("{ partners { ...F0 } }");
    for i in 0..n {
        doc.push_str(&format!(
            " fragment F{i} on {on} {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    doc.push_str(&format!(" fragment F{n} on {on} {{ {last} }}"));
    doc
}

#[test]
fn a_document_is_bounded_by_what_it_expands_to_without_expanding_it() {
    let limits = Limits::default();
    // 2^60 selections: counted in as many steps as the document has
    // fragments, saturating rather than allocating.
    assert_eq!(
        admitted(&chain("Partner", 60, "id"), Value::Null),
        Err(ErrorCode::TooDeep),
        "fragments spread 60 deep"
    );
    assert_eq!(
        admitted(&chain("Partner", 30, "id"), Value::Null),
        Err(ErrorCode::TooManySelections)
    );
    // Each fragment counts too, used or not: validation reads them all.
    let unused = format!(
        "{{ partners {{ id }} }} {}",
        chain("Partner", 20, "id").replace("{ partners { ...F0 } }", "")
    );
    assert_eq!(
        admitted(&unused, Value::Null),
        Err(ErrorCode::TooManySelections)
    );
    let within = chain("Partner", 10, "id");
    assert!(admitted(&within, Value::Null).is_ok());
    let ops: String = (0..=limits.max_operations)
        .map(|i| format!("query Q{i} {{ partners {{ id }} }} "))
        .collect();
    let doc = async_graphql::parser::parse_query(&ops).unwrap();
    assert_eq!(
        check_document(&doc, &limits).map_err(|(c, _)| c),
        Err(ErrorCode::TooManyOperations)
    );
    let vars: String = (0..=limits.max_variables)
        .map(|i| format!("$v{i}: Int "))
        .collect();
    assert_eq!(
        admitted(
            &format!("query({vars}) {{ partners {{ id }} }}"),
            Value::Null
        ),
        Err(ErrorCode::TooManyVariables)
    );
    let directives = "@include(if: true) ".repeat(limits.max_directives + 1);
    for doc in [
        format!("{{ partners {directives} {{ id }} }}"),
        format!("{{ ... on Query {directives} {{ partners {{ id }} }} }}"),
        format!("{{ ...P {directives} }} fragment P on Query {{ partners {{ id }} }}"),
        format!("query Q {directives} {{ partners {{ id }} }}"),
    ] {
        assert_eq!(
            admitted(&doc, Value::Null),
            Err(ErrorCode::TooManyDirectives),
            "{doc}"
        );
    }
    let deep = format!("{{ partners {}{} }}", "{ a ".repeat(12), "}".repeat(12));
    assert_eq!(admitted(&deep, Value::Null), Err(ErrorCode::TooDeep));
}

#[test]
fn introspection_is_bounded_on_its_own_terms() {
    let of_type = |n: usize| format!("{}kind{}", "ofType { ".repeat(n), " }".repeat(n));
    // graphql-js's TypeRef under `__schema { types { fields { args {
    // type } } } }`: 15 deep, past `max_depth` but within its own.
    let standard = format!(
        "{{ __schema {{ types {{ fields {{ args {{ type {{ ...T }} }} }} }} }} }} \
             fragment T on __Type {{ {} }}",
        of_type(9)
    );
    assert!(admitted(&standard, Value::Null).is_ok());
    let deeper = format!("{{ __type(name: \"Offer\") {{ {} }} }}", of_type(16));
    assert_eq!(admitted(&deeper, Value::Null), Err(ErrorCode::TooDeep));
    // Beside an introspection, the schema's fields keep `max_depth`;
    // inside one of them, an introspection counts in their depth.
    let beside = format!(
        "{{ __schema {{ description }} partners {{ {}id{} }} }}",
        "a { ".repeat(12),
        " }".repeat(12)
    );
    assert_eq!(admitted(&beside, Value::Null), Err(ErrorCode::TooDeep));
    let inside = format!(
        "{{ partners {{ {} }} }}",
        "a { ".repeat(6) + &format!("__type(name: \"X\") {{ {} }}", of_type(5)) + &" }".repeat(6)
    );
    assert_eq!(admitted(&inside, Value::Null), Err(ErrorCode::TooDeep));
}

#[test]
fn required_and_mistyped_variables_are_refused_before_running() {
    let q =
        "query($first: Int!, $dep: String, $ids: [ID!]) { offers(first: $first) { totalCount } }";
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
