//! The error every reader in `formats` returns: what went wrong and where (file, line, field).

use std::fmt;

/// Where in a file a problem was found. Displays as `file:line: field `x``.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file (path or `s3://` URI) the data came from.
    pub file: String,
    /// 1-based line number, for line-oriented formats.
    pub line: Option<usize>,
    /// The field (JSON path such as `frames[2].frame`, or a header keyword).
    pub field: Option<String>,
}

impl Location {
    /// A location naming only the file.
    pub fn file(file: impl Into<String>) -> Self {
        Self { file: file.into(), line: None, field: None }
    }

    /// This location at a 1-based line.
    #[must_use]
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// This location at a field.
    #[must_use]
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        Ok(())
    }
}

/// An error reading or writing a file format.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The content is not what the format allows.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong, in words a user can act on.
        message: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl FormatError {
    /// An [`FormatError::Invalid`] at `location`.
    pub fn invalid(location: Location, message: impl Into<String>) -> Self {
        Self::Invalid { location, message: message.into() }
    }

    /// An [`FormatError::Io`] for `path`.
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
