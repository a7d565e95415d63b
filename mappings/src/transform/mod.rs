//! Transforms: the steps between a partner's text and a unified value.
//!
//! A [`Transform`] is read from a mapping file (`parse`) and applied to a
//! field's values (`apply`), leaving borrowed the values it does not
//! change; the dates partners write are read by `dates`.

mod apply;
mod dates;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::record::Path;

/// One step of a field's pipeline. Each works on every value of the field
/// (a field may carry a list, such as ROME codes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transform {
    /// Removes leading and trailing white space.
    Trim,
    /// Trims and folds every run of white space into one space.
    CollapseWhitespace,
    /// Upper case.
    Uppercase,
    /// Lower case.
    Lowercase,
    /// Keeps the digits only (`732 829 320 00074` → `73282932000074`).
    DigitsOnly,
    /// The leading whole number (`24 mois` → `24`).
    Int,
    /// Euros written the French way → integer cents.
    Euros,
    /// A postcode → its département code.
    DepartementFromPostcode,
    /// A date in the given `strftime` format → ISO 8601 (`2027-09-01`).
    Date(String),
    /// A date as LHÉO writes it, `AAAAMMJJ` → ISO 8601. `00000000` and
    /// `99999999` (a date unknown, or open) give no value; `AAAAMM00` (a
    /// month) and `AAAA0000` (a year) give their first day, or their last
    /// when `end` is set (`{ lheo_date = "end" }`).
    LheoDate { end: bool },
    /// A date-time in the given format (or `rfc3339`), read in `timezone`
    /// when it carries no offset → RFC 3339 in UTC. A date alone is read as
    /// midnight.
    DateTime { format: String, timezone: Tz },
    /// A partner's code → the unified code, by a named list (compared
    /// without case or accents); a code not in the list is `otherwise`,
    /// or an error without it.
    CodeList {
        name: String,
        entries: BTreeMap<String, String>,
        otherwise: Option<String>,
    },
    /// The value used when the field has none.
    Default(String),
    /// When the field has no value, one derived from these paths' values
    /// in the record (`derived-` and 24 hex digits of their SHA-256): the
    /// same record gives the same one at every read, as an identity that
    /// a re-sync finds again.
    Derive(Vec<crate::record::Path>),
    /// Splits each value on a separator.
    Split(String),
    /// A commune's name → its INSEE code, helped by the postcode found at
    /// `postcode` in the same record; an INSEE code is kept as it is.
    CommuneLookup { postcode: Option<Path> },
    /// Puts the value into a template at `{}` (`https://x/offres/{}`).
    Format(String),
    /// Multiplies a whole number (`4` weeks × 7 → `28` days).
    Multiply(u64),
}
