//! Date and time scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// A calendar date, ISO 8601 (`2027-09-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// An instant, RFC 3339 in UTC (`2026-11-20T08:30:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// A calendar date, ISO 8601 (`2027-09-01`).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(Date)
                .map_err(|_| InputValueError::custom("a Date is written 2027-09-01")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An instant, RFC 3339 in UTC (`2026-11-20T08:30:00Z`).
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| DateTime(d.to_utc()))
                .map_err(|_| {
                    InputValueError::custom("a DateTime is RFC 3339, like 2026-11-20T08:30:00Z")
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// An amount of euros, exact: a decimal string with two decimals
/// (`1234.50`), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub passerelle_schema::Cents);

/// An amount of euros, exact: a decimal string with two decimals (`1234.50`).
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => passerelle_schema::Cents::parse_euros(s)
                .map(Money)
                .map_err(|_| InputValueError::custom("an amount is written 1234.50")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_decimal_string())
    }
}
