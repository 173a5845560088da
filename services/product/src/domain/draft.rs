use money::Money;

/// The largest stock count one product may hold; far above any real shelf, far below
/// what would overflow a reservation.
pub const MAX_STOCK: u32 = 1_000_000;

/// A validated new product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDraft {
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
}

/// Validated changes to a product; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub stock: Option<u32>,
}

/// A product field that breaks its rule; the route layer names the field in the
/// error's `details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("name must be 1 to 200 characters")]
    Name,
    #[error("description must be at most 2000 characters")]
    Description,
    #[error("stock must be 0 to {MAX_STOCK}")]
    Stock,
}

impl FieldError {
    /// The request field at fault, as the client spelled it.
    pub fn field(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Description => "description",
            Self::Stock => "stock",
        }
    }
}

pub fn name(value: &str) -> Result<String, FieldError> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(FieldError::Name);
    }
    Ok(name.to_owned())
}

pub fn description(value: &str) -> Result<String, FieldError> {
    let text = value.trim();
    if text.chars().count() > 2000 {
        return Err(FieldError::Description);
    }
    Ok(text.to_owned())
}

pub fn stock(value: i64) -> Result<u32, FieldError> {
    u32::try_from(value)
        .ok()
        .filter(|s| *s <= MAX_STOCK)
        .ok_or(FieldError::Stock)
}

#[cfg(test)]
mod tests {
    use service_kit::ApiError;

    use super::*;

    /// The field named in the error a client gets, through the route layer's mapping.
    fn field(e: FieldError) -> String {
        ApiError::from(e).body().details["field"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn invalid_fields_are_named() {
        assert_eq!(field(name("  ").unwrap_err()), "name");
        assert_eq!(
            field(description(&"x".repeat(2001)).unwrap_err()),
            "description"
        );
        assert_eq!(field(stock(-1).unwrap_err()), "stock");
        assert_eq!(field(stock(i64::from(MAX_STOCK) + 1).unwrap_err()), "stock");
    }

    #[test]
    fn valid_fields_are_trimmed_and_kept() {
        assert_eq!(name("  Mug ").unwrap(), "Mug");
        assert_eq!(stock(0).unwrap(), 0);
    }
}
