use money::Money;
use service_kit::ApiError;

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

pub fn name(value: &str) -> Result<String, ApiError> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn description(value: &str) -> Result<String, ApiError> {
    let text = value.trim();
    if text.chars().count() > 2000 {
        return Err(ApiError::invalid(
            "description",
            "description must be at most 2000 characters",
        ));
    }
    Ok(text.to_owned())
}

pub fn stock(value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .ok()
        .filter(|s| *s <= MAX_STOCK)
        .ok_or_else(|| ApiError::invalid("stock", format!("stock must be 0 to {MAX_STOCK}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> String {
        e.body().details["field"].as_str().unwrap().to_owned()
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
