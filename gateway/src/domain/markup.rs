//! The simple HTML a catalogue's texts may hold (LHÉO allows it in a
//! programme's objectives and contents: `Objectifs :<br/><ul><li>…`), as
//! plain text, or as HTML that a page can show as it is.
//!
//! The sanitising is `ammonia`'s (an allow-list over html5ever's parsing,
//! as browsers parse): what a page will insert is too important to be
//! parsed by hand.

use std::sync::LazyLock;

/// The elements a sanitised text keeps, without any attribute: paragraphs,
/// breaks, lists, emphasis.
const KEPT: [&str; 10] = ["p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "u"];

/// The HTML elements read as markup (those whose content is no text,
/// `script`, `style`, `iframe`, dropped whole); any other `<` is text (`les
/// viennoiseries <traditionnelles>`, `a < b`).
const HTML: &[&str] = &[
    "a",
    "abbr",
    "b",
    "big",
    "blockquote",
    "br",
    "center",
    "code",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "iframe",
    "img",
    "li",
    "object",
    "ol",
    "p",
    "pre",
    "s",
    "script",
    "small",
    "span",
    "strong",
    "style",
    "sub",
    "sup",
    "table",
    "td",
    "th",
    "tr",
    "u",
    "ul",
];

/// Elements after which a plain text goes to a new line.
const BLOCKS: [&str; 8] = ["br", "p", "div", "li", "ul", "ol", "h1", "h2"];

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags(KEPT);
    b
});

static NO_TAGS: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);

/// The name of the element a `<` opens or closes, lower-cased.
fn tag_name(after: &str) -> String {
    after
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `text` with every `<` that opens no HTML element written `&lt;`, and
/// a new line before each block element when `blocks`.
fn marked(text: &str, blocks: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let name = tag_name(&rest[at + 1..]);
        if !HTML.contains(&name.as_str()) {
            out.push_str("&lt;");
        } else {
            if blocks && BLOCKS.contains(&name.as_str()) {
                out.push('\n');
            }
            out.push('<');
        }
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

/// `text` as HTML a page can insert: the elements of [`KEPT`] without
/// attributes; every other element is dropped with its tags (its text
/// kept), scripts and styles with their content.
pub fn sanitised(text: &str) -> String {
    SANITISER.clean(&marked(text, false)).to_string()
}

/// `text` without markup: its elements' text, a new line after each
/// block (a paragraph, a break, a list item), entities read, spaces
/// within a line collapsed, no empty lines.
pub fn plain(text: &str) -> String {
    if !text.contains(['<', '&']) {
        return text.trim().to_owned();
    }
    // A new line is marked where each block ends, then every tag dropped.
    let cleaned = NO_TAGS.clean(&marked(text, true)).to_string();
    let text = cleaned
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace('\u{a0}', " ")
        .replace("&amp;", "&");
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_plain_text_or_html_without_anything_else() {
        // As Carif-Oref Occitanie writes an objective.
        let text = "Obtenir le DAEU&nbsp;:<br/><ul><li>Français, <b>anglais</b></li><li>Maths &amp; physique</li></ul><script>alert(1)</script><p onclick=\"x()\">Fin  de   cursus</p>";
        assert_eq!(
            plain(text),
            "Obtenir le DAEU :\nFrançais, anglais\nMaths & physique\nFin de cursus"
        );
        assert_eq!(
            sanitised(text),
            "Obtenir le DAEU&nbsp;:<br><ul><li>Français, <b>anglais</b></li><li>Maths &amp; physique</li></ul><p>Fin  de   cursus</p>"
        );
        assert_eq!(plain("  Sans balise  "), "Sans balise");
        assert_eq!(plain("a < b et c > d"), "a < b et c > d");
        let words = "les viennoiseries <traditionnelles> & le <p>pain</p>";
        assert_eq!(
            plain(words),
            "les viennoiseries <traditionnelles> & le\npain"
        );
        assert_eq!(
            sanitised(words),
            "les viennoiseries &lt;traditionnelles&gt; &amp; le <p>pain</p>"
        );
        assert_eq!(sanitised("<a href=\"javascript:x()\">lien</a>"), "lien");
    }
}
