//! The formats an upload may be in, from its content type or its file's name.

use super::FormatError;

/// The formats of uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// The `<allocations>` XML document.
    Xml,
}

impl Format {
    /// The format of a media type (`text/csv; charset=utf-8`…).
    pub fn from_content_type(content_type: &str) -> Result<Self, FormatError> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Ok(Self::Csv),
            "application/xml" | "text/xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(content_type.to_owned())),
        }
    }

    /// The format of a file, by its extension.
    pub fn from_path(path: &std::path::Path) -> Result<Self, FormatError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "csv" => Ok(Self::Csv),
            Some(e) if e == "xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(path.display().to_string())),
        }
    }
}
