//! Rules for what a user may put in their profile. No I/O.

use service_kit::ApiError;

/// Trims, and refuses empty or overlong text, naming the field.
pub fn profile_text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} cannot be empty")));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::invalid(
            field,
            format!("{field} has control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(profile_text("display_name", "  Ada ", 10).unwrap(), "Ada");
        assert!(profile_text("display_name", "   ", 10).is_err());
        assert!(profile_text("display_name", &"x".repeat(11), 10).is_err());
        assert!(profile_text("display_name", "bell\u{7}", 10).is_err());
        let e = profile_text("shipping_address", "", 10).unwrap_err();
        assert_eq!(e.body().details["field"], "shipping_address");
    }
}
