//! Money, the one type for it in every layer (domain, events, API answers): integer
//! minor units of one ISO 4217 currency, valid by construction (reading one from JSON
//! checks it too), with arithmetic that refuses to mix currencies or to overflow instead
//! of wrapping. It must never use floating point, and never round: every amount is
//! exact.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code like EUR, got {0:?}")]
    InvalidCurrency(String),
    #[error("amount cannot be negative")]
    Negative,
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount is too large")]
    Overflow,
}

/// A three-letter upper-case currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(MoneyError::InvalidCurrency(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Digits after the decimal point (ISO 4217): 0 for JPY-like currencies, 3 for the
    /// dinars, 2 for the rest.
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "CLP" | "ISK" | "VND" | "XAF" | "XOF" | "UGX" => 0,
            "BHD" | "JOD" | "KWD" | "OMR" | "TND" | "LYD" | "IQD" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount in minor units (cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount_minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    /// An amount from its two wire fields, e.g. `Money::parse(1999, "EUR")`.
    pub fn parse(amount_minor: i64, currency: &str) -> Result<Self, MoneyError> {
        Self::new(amount_minor, Currency::parse(currency)?)
    }

    pub fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    pub fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount_minor,
            ..self
        })
    }

    /// The price of `quantity` units.
    pub fn times(self, quantity: u32) -> Result<Money, MoneyError> {
        let amount_minor = self
            .amount_minor
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount_minor,
            ..self
        })
    }

    /// The sum of amounts in `currency`; an empty list sums to zero.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

/// `12.34 EUR`, `500 JPY`: exact, with the currency's number of decimals.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return write!(f, "{} {}", self.amount_minor, self.currency);
        }
        let scale = 10i64.pow(exponent);
        write!(
            f,
            "{}.{:0width$} {}",
            self.amount_minor / scale,
            self.amount_minor % scale,
            self.currency,
            width = exponent as usize
        )
    }
}

// The one shape of an amount on every wire, events and API answers alike:
// `{"amount_minor": 1999, "currency": "EUR"}`. Reading it checks each field on its own,
// so a bad body is refused naming `price.amount_minor` or `price.currency`. (Its doc
// comment below is the OpenAPI description clients see.)
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Money)]
/// An amount as every API shows it: integer minor units (cents) and an ISO 4217 code.
struct Wire {
    /// Minor units: 1234 with EUR is 12.34 EUR.
    #[schema(value_type = i64, example = 1999, minimum = 0)]
    amount_minor: MinorUnits,
    #[schema(value_type = String, example = "EUR", pattern = "^[A-Z]{3}$")]
    currency: Currency,
}

/// A count of minor units, refused when negative as it is read.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
struct MinorUnits(i64);

impl TryFrom<i64> for MinorUnits {
    type Error = MoneyError;
    fn try_from(amount_minor: i64) -> Result<Self, MoneyError> {
        if amount_minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self(amount_minor))
    }
}

impl From<MinorUnits> for i64 {
    fn from(m: MinorUnits) -> i64 {
        m.0
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            amount_minor: MinorUnits(self.amount_minor),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Ok(Self {
            amount_minor: wire.amount_minor.0,
            currency: wire.currency,
        })
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        Wire::schema()
    }
}

impl utoipa::ToSchema for Money {
    fn name() -> std::borrow::Cow<'static, str> {
        Wire::name()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap()).unwrap()
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert!(Currency::parse("EUR").is_ok());
        for bad in ["eur", "EU", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_cannot_be_negative() {
        assert_eq!(
            Money::new(-1, Currency::parse("EUR").unwrap()),
            Err(MoneyError::Negative)
        );
    }

    #[test]
    fn different_currencies_never_add() {
        let usd = Money::new(100, Currency::parse("USD").unwrap()).unwrap();
        assert!(matches!(
            eur(100).checked_add(usd),
            Err(MoneyError::CurrencyMismatch(..))
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MAX / 2 + 1).times(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn display_uses_the_currency_exponent() {
        assert_eq!(eur(1234).to_string(), "12.34 EUR");
        assert_eq!(eur(5).to_string(), "0.05 EUR");
        let jpy = Money::new(500, Currency::parse("JPY").unwrap()).unwrap();
        assert_eq!(jpy.to_string(), "500 JPY");
        let kwd = Money::new(1005, Currency::parse("KWD").unwrap()).unwrap();
        assert_eq!(kwd.to_string(), "1.005 KWD");
    }

    #[test]
    fn reads_and_writes_the_wire_shape_refusing_bad_fields() {
        let wire = serde_json::to_value(eur(250)).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"amount_minor": 250, "currency": "EUR"})
        );
        assert_eq!(serde_json::from_value::<Money>(wire).unwrap(), eur(250));
        let bad = serde_json::json!({"amount_minor": 1, "currency": "eur"});
        assert!(serde_json::from_value::<Money>(bad).is_err());
        let negative = serde_json::json!({"amount_minor": -1, "currency": "EUR"});
        assert!(serde_json::from_value::<Money>(negative).is_err());
    }

    const BOUND: i64 = i64::MAX / 4;

    proptest! {
        #[test]
        fn addition_is_commutative_and_associative(
            a in 0..BOUND, b in 0..BOUND, c in 0..BOUND
        ) {
            let (a, b, c) = (eur(a), eur(b), eur(c));
            prop_assert_eq!(a.checked_add(b), b.checked_add(a));
            let left = a.checked_add(b).and_then(|ab| ab.checked_add(c));
            let right = b.checked_add(c).and_then(|bc| a.checked_add(bc));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn times_equals_repeated_addition(price in 0..1_000_000i64, quantity in 0u32..50) {
            let repeated = Money::sum(
                Currency::parse("EUR").unwrap(),
                std::iter::repeat_n(eur(price), quantity as usize),
            );
            prop_assert_eq!(eur(price).times(quantity), repeated);
        }

        #[test]
        fn any_sum_either_is_exact_or_reports_overflow(
            amounts in proptest::collection::vec(0..i64::MAX, 0..6)
        ) {
            let exact: i128 = amounts.iter().map(|&a| i128::from(a)).sum();
            let total = Money::sum(
                Currency::parse("EUR").unwrap(),
                amounts.iter().map(|&a| eur(a)),
            );
            match total {
                Ok(m) => prop_assert_eq!(i128::from(m.amount_minor()), exact),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(exact > i128::from(i64::MAX));
                }
            }
        }

        #[test]
        fn display_never_loses_a_minor_unit(minor in 0..i64::MAX) {
            let shown = eur(minor).to_string();
            let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
            prop_assert_eq!(digits.trim_start_matches('0').to_owned(),
                            minor.to_string().trim_start_matches('0').to_owned());
        }
    }
}
