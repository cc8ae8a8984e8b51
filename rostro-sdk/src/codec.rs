//! Small encoding helpers shared by the generated builders.

use crate::Error;
use crate::request::Operation;

/// The error for a required input the caller did not set; returned before anything is sent.
pub(crate) fn missing(op: &'static Operation, field: &str) -> Error {
    Error::InvalidRequest {
        operation: op.id,
        message: format!("`{field}` is required but was not set"),
    }
}

/// A non-file multipart field as text.
pub(crate) fn form_text<T: std::fmt::Display>(value: &T) -> String {
    value.to_string()
}
