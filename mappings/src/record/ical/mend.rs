//! A calendar some of whose lines the parser cannot read, mended so that
//! it reads the rest: a line that cannot be read is noted in its
//! component, which is refused alone, rather than refusing the document.

/// The property a component's line that could not be read is replaced
/// with, saying where and why, for the component to be refused alone.
pub(super) const MALFORMED: &str = "X-PASSERELLE-MALFORMED";

/// Why a content line (RFC 5545, 3.1) cannot be read, if it cannot: a
/// name of letters, digits and dashes, parameters, a colon, a value. The
/// line is tried as the parser reads it, alone in a component.
fn unreadable_line(line: &str) -> Option<String> {
    let probe = format!("BEGIN:X\r\n{line}\r\nEND:X\r\n");
    let read = icalendar::parser::read_calendar_simple(&probe)
        .ok()
        .filter(|c| matches!(&c[..], [c] if c.properties.len() == 1 && c.components.is_empty()));
    if read.is_some() {
        return None;
    }
    let name: String = line
        .chars()
        .take_while(|c| !matches!(c, ':' | ';'))
        .take(40)
        .collect();
    Some(if !line.contains(':') {
        format!("{name:?} has no ':' before a value")
    } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("{name:?} is not a property name")
    } else {
        format!("the parameters of {name} cannot be read")
    })
}

/// A content line whose parameter values are quoted, as RFC 5545 allows
/// any of them to be (3.2), so that values the parser refuses unquoted
/// are read: Apple writes `=`, `/` and `\;` in them
/// (`X-APPLE-MAPKIT-HANDLE=CAES…==`). `None` when a value holds a quote.
fn requoted(line: &str) -> Option<String> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.char_indices();
    let value = loop {
        let (i, c) = chars.next()?;
        match c {
            '"' => quoted = !quoted,
            '\\' if !quoted => {
                let (_, next) = chars.next()?;
                parts.last_mut()?.push(c);
                parts.last_mut()?.push(next);
                continue;
            }
            ';' if !quoted => {
                parts.push(String::new());
                continue;
            }
            ':' if !quoted => break &line[i + 1..],
            _ => {}
        }
        parts.last_mut()?.push(c);
    };
    let mut out = parts[0].clone();
    for param in &parts[1..] {
        let (key, v) = param.split_once('=')?;
        out.push(';');
        out.push_str(key);
        out.push('=');
        if v.starts_with('"') {
            out.push_str(v);
        } else if v.contains('"') {
            return None;
        } else {
            out.push('"');
            out.push_str(v);
            out.push('"');
        }
    }
    out.push(':');
    out.push_str(value);
    Some(out)
}

/// `text` as the parser can read it, when some of its lines cannot be
/// read: a property line that cannot be read, even with its parameter
/// values quoted, is replaced by a [`MALFORMED`] property of its
/// component (an extension property's is dropped), an `END` without its `BEGIN`
/// is dropped (noted in the component it stood in), and a component never
/// ended is ended where its parent is (noted in it). Lines outside any
/// component are dropped. `lines` numbers the lines as written.
pub(super) fn ical_mend(text: &str, lines: &[u32]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut open: Vec<&str> = Vec::new();
    let note = |out: &mut String, number: u32, reason: &str| {
        out.push_str(MALFORMED);
        out.push(':');
        out.push_str(&format!("line {number}: {reason}").replace('\\', "/"));
        out.push_str("\r\n");
    };
    fn keyword<'l>(line: &'l str, word: &str) -> Option<&'l str> {
        line.get(..word.len())
            .filter(|w| w.eq_ignore_ascii_case(word))
            .map(|_| line[word.len()..].trim())
    }
    for (k, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let number = lines.get(k).copied().unwrap_or(k as u32 + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(name) = keyword(line, "BEGIN:") {
            open.push(name);
            out.push_str(line);
            out.push_str("\r\n");
        } else if let Some(name) = keyword(line, "END:") {
            match open.iter().rposition(|o| o.eq_ignore_ascii_case(name)) {
                Some(at) => {
                    while open.len() > at + 1 {
                        let inner = open.pop().expect("deeper than at");
                        note(&mut out, number, &format!("BEGIN:{inner} is never ended"));
                        out.push_str(&format!("END:{inner}\r\n"));
                    }
                    open.pop();
                    out.push_str(line);
                    out.push_str("\r\n");
                }
                None if !open.is_empty() => {
                    note(&mut out, number, &format!("END:{name} without its BEGIN"))
                }
                None => {}
            }
        } else if !open.is_empty() {
            let Some(reason) = unreadable_line(line) else {
                out.push_str(line);
                out.push_str("\r\n");
                continue;
            };
            match requoted(line).filter(|l| unreadable_line(l).is_none()) {
                Some(mended) => {
                    out.push_str(&mended);
                    out.push_str("\r\n");
                }
                // An extension property may be ignored (RFC 5545, 3.8.8.2).
                None if line.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("X-")) => {}
                None => note(&mut out, number, &reason),
            }
        }
    }
    let last = lines.last().copied().unwrap_or(1);
    while let Some(inner) = open.pop() {
        note(&mut out, last, &format!("BEGIN:{inner} is never ended"));
        out.push_str(&format!("END:{inner}\r\n"));
    }
    out
}
