use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::{ContractError, ENVELOPE_SCHEMA, EVENT_TYPES, Envelope, Violation};

struct Validators {
    envelope: Validator,
    data: HashMap<(&'static str, u32), Validator>,
}

// Compiling is far costlier than validating, and the schemas are fixed at
// build time, so do it once per process.
static VALIDATORS: LazyLock<Validators> = LazyLock::new(|| Validators {
    envelope: compile("envelope", ENVELOPE_SCHEMA),
    data: EVENT_TYPES
        .iter()
        .map(|entry| {
            let name = format!("{} v{}", entry.event_type, entry.version);
            let validator = compile(&name, entry.schema);
            ((entry.event_type, entry.version), validator)
        })
        .collect(),
});

// The schemas are compiled in, so a broken one is a bug in this crate that
// its tests catch, not something a caller could handle.
fn compile(name: &str, schema: &str) -> Validator {
    let schema: Value = serde_json::from_str(schema)
        .unwrap_or_else(|err| panic!("schema for {name} is not JSON: {err}"));
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|err| panic!("schema for {name} does not compile: {err}"))
}

/// Checks `envelope` against the envelope schema and its `data` against the
/// schema registered for its type and version.
///
/// Violations of the envelope schema are reported before the type is looked
/// up, so a malformed envelope is a [`ContractError::SchemaViolation`] even if
/// its type is unknown.
///
/// # Errors
///
/// [`ContractError::SchemaViolation`] listing every violation of the
/// envelope schema or, if there are none, of the data schema;
/// [`ContractError::UnknownEvent`] if no schema is registered for the type and
/// version, or [`ContractError::InvalidData`] if the envelope cannot be
/// serialised (an `occurred_at` outside RFC 3339's range).
pub fn validate(envelope: &Envelope) -> Result<(), ContractError> {
    let validators = &*VALIDATORS;
    let instance = serde_json::to_value(envelope)?;
    let violations = collect_violations(&validators.envelope, &instance, "");
    if !violations.is_empty() {
        return Err(schema_violation(envelope, violations));
    }

    let data_validator = validators
        .data
        .get(&(envelope.event_type.as_str(), envelope.version))
        .ok_or_else(|| ContractError::UnknownEvent {
            event_type: envelope.event_type.clone(),
            version: envelope.version,
        })?;
    let violations = collect_violations(data_validator, &envelope.data, "/data");
    if !violations.is_empty() {
        return Err(schema_violation(envelope, violations));
    }
    Ok(())
}

fn collect_violations(validator: &Validator, instance: &Value, prefix: &str) -> Vec<Violation> {
    validator
        .iter_errors(instance)
        .map(|err| Violation {
            instance_path: format!("{prefix}{}", err.instance_path().as_str()),
            // Masked so that personal data in events (emails, names) does not
            // end up in the logs these messages are written to.
            message: err.masked().to_string(),
        })
        .collect()
}

fn schema_violation(envelope: &Envelope, violations: Vec<Violation>) -> ContractError {
    ContractError::SchemaViolation {
        event_type: envelope.event_type.clone(),
        version: envelope.version,
        violations,
    }
}
