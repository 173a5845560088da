use std::fmt;

/// Everything that can go wrong when encoding, decoding or validating events.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// [`Envelope::decode`](crate::Envelope::decode) was asked for a different
    /// event than the envelope carries.
    #[error(
        "expected event {expected_type} v{expected_version}, \
         got {actual_type} v{actual_version}"
    )]
    WrongEvent {
        expected_type: &'static str,
        expected_version: u32,
        actual_type: String,
        actual_version: u32,
    },

    /// The data could not be converted to or from its Rust type.
    #[error("event data does not (de)serialise: {0}")]
    InvalidData(#[from] serde_json::Error),

    /// No schema is registered for this type and version.
    #[error("unknown event {event_type} v{version}")]
    UnknownEvent { event_type: String, version: u32 },

    /// The envelope or its data breaks the schema.
    #[error("event {event_type} v{version} violates its schema: {}", Violations(.violations))]
    SchemaViolation {
        event_type: String,
        version: u32,
        violations: Vec<Violation>,
    },
}

/// One schema error, located by a JSON pointer into the envelope
/// (data errors are therefore under `/data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub instance_path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{path}: {}", self.message)
    }
}

struct Violations<'a>(&'a [Violation]);

impl fmt::Display for Violations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}
