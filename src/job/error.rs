//! The error of the `job` layer: a job specification that cannot even be read. Everything that
//! parses but breaks a Ground Truth rule is a [`Finding`](super::validate::Finding), not an error.
//!
//! Must not depend on anything above `job`.

/// An error reading a job specification.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The text is not JSON, or a field has the wrong JSON type.
    #[error("job specification, line {line} column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description, naming the field where it can.
        message: String,
    },
}
