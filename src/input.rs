//! What is wrong with a piece of input: the path of the field (or column) at
//! fault and a message. The line format, export lines, GDELT rows, line
//! reading and the ledger's checks against its vocabulary and actors all
//! report bad input this way.

/// Bad input: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("field `{field}`: ") })]
pub struct InputError {
    /// Path of the field (`proposition.subjects[1]`), empty for the whole line.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error about one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }
}
