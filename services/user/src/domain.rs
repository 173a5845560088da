//! Rules for what a user may put in their profile. No I/O.

/// Why a profile text was refused; each names the field, which the route layer reports
/// in the error's `details`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileTextError {
    #[error("{field} cannot be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at most {max_chars} characters")]
    TooLong {
        field: &'static str,
        max_chars: usize,
    },
    #[error("{field} has control characters")]
    ControlCharacters { field: &'static str },
}

impl ProfileTextError {
    /// The field the text was meant for.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacters { field } => field,
        }
    }
}

/// Trims, and refuses empty or overlong text, naming the field.
pub fn profile_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, ProfileTextError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ProfileTextError::Empty { field });
    }
    if trimmed.chars().count() > max_chars {
        return Err(ProfileTextError::TooLong { field, max_chars });
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ProfileTextError::ControlCharacters { field });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use service_kit::ApiError;

    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(profile_text("display_name", "  Ada ", 10).unwrap(), "Ada");
        assert!(profile_text("display_name", "   ", 10).is_err());
        assert!(profile_text("display_name", &"x".repeat(11), 10).is_err());
        assert!(profile_text("display_name", "bell\u{7}", 10).is_err());
        // As a client sees it, through the route layer's mapping.
        let e = ApiError::from(profile_text("shipping_address", "", 10).unwrap_err());
        assert_eq!(e.body().details["field"], "shipping_address");
    }
}
