//! iCalendar TEXT values (RFC 5545, 3.3.11): which properties the parser
//! has unescaped already, unescaping the others once, and splitting lists
//! on the commas that are not escaped.

/// Properties whose value is a list of texts separated by commas.
pub(super) const LIST_PROPERTIES: [&str; 2] = ["CATEGORIES", "RESOURCES"];

/// The TEXT properties that the parser unescapes itself, when named in
/// capitals and not given another `VALUE` type (as `icalendar`'s
/// `ValueType::by_name` lists them; `X-` properties too).
pub(super) const PARSER_TEXT_PROPERTIES: [&str; 20] = [
    "CALSCALE",
    "METHOD",
    "PRODID",
    "VERSION",
    "CATEGORIES",
    "CLASS",
    "COMMENT",
    "DESCRIPTION",
    "LOCATION",
    "RESOURCES",
    "STATUS",
    "SUMMARY",
    "TRANSP",
    "TZID",
    "TZNAME",
    "CONTACT",
    "RELATED-TO",
    "UID",
    "ACTION",
    "REQUEST-STATUS",
];

/// Whether the parser has unescaped the value of `p` already: a second
/// pass would read `\\n` as a new line.
pub(super) fn parser_unescaped(p: &icalendar::parser::Property<'_>) -> bool {
    let name = p.name.as_str();
    if LIST_PROPERTIES.iter().any(|l| l.eq_ignore_ascii_case(name)) {
        return false;
    }
    let typed = p
        .params
        .iter()
        .find(|q| q.key.as_str() == "VALUE")
        .and_then(|q| q.val.as_ref())
        .and_then(|t| t.as_str().parse::<icalendar::ValueType>().ok());
    match typed {
        Some(t) => matches!(t, icalendar::ValueType::Text),
        None => {
            !name.chars().any(char::is_lowercase)
                && (name.starts_with("X-") || PARSER_TEXT_PROPERTIES.contains(&name))
        }
    }
}

/// Unescapes an iCalendar TEXT value (`\\,` `\\;` `\\n` `\\\\`).
pub(super) fn ical_unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits an iCalendar list on the commas that are not escaped.
pub(super) fn ical_split(v: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in v.chars() {
        match (escaped, c) {
            (false, '\\') => {
                escaped = true;
                current.push(c);
            }
            (false, ',') => items.push(ical_unescape(&std::mem::take(&mut current))),
            _ => {
                escaped = false;
                current.push(c);
            }
        }
    }
    items.push(ical_unescape(&current));
    items.retain(|i| !i.trim().is_empty());
    items
}
