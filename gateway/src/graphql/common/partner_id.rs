//! `PartnerId`: an enum of the API whose values are the partners of the
//! registry the schema is built from, each described as its folder
//! declares it. A test that registers a partner of its own sees it here;
//! the shipped schema lists the shipped partners.

use std::borrow::Cow;
use std::cell::RefCell;

use async_graphql::parser::types::Field;
use async_graphql::registry::{Deprecation, MetaEnumValue, MetaType, MetaTypeId, Registry};
use async_graphql::{
    ContextSelectionSet, InputType, InputValueError, InputValueResult, Name, OutputType,
    Positioned, ServerResult, Value,
};
use passerelle_schema::Partner;

/// A partner system whose data Passerelle serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartnerId(pub Partner);

impl From<Partner> for PartnerId {
    fn from(p: Partner) -> Self {
        Self(p)
    }
}

impl From<PartnerId> for Partner {
    fn from(p: PartnerId) -> Self {
        p.0
    }
}

thread_local! {
    /// The partners of the schema being built on this thread.
    static BUILDING: RefCell<Vec<Partner>> = const { RefCell::new(Vec::new()) };
}

/// Runs `build` (which builds a schema) with `partners` as the values of
/// `PartnerId`.
pub fn with_partners<T>(partners: Vec<Partner>, build: impl FnOnce() -> T) -> T {
    let before = BUILDING.with(|b| b.replace(partners));
    let built = build();
    BUILDING.with(|b| b.replace(before));
    built
}

const DESCRIPTION: &str = "A partner system whose data Passerelle serves.";

fn meta() -> MetaType {
    let enum_values = BUILDING.with(|b| {
        b.borrow()
            .iter()
            .map(|p| {
                let info = p.info();
                let value = MetaEnumValue {
                    name: info.api_name.to_owned(),
                    description: Some(info.about.to_owned()),
                    deprecation: Deprecation::NoDeprecated,
                    visible: None,
                    inaccessible: false,
                    tags: Vec::new(),
                    directive_invocations: Vec::new(),
                };
                (info.api_name.to_owned(), value)
            })
            .collect()
    });
    MetaType::Enum {
        name: "PartnerId".to_owned(),
        description: Some(DESCRIPTION.to_owned()),
        enum_values,
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        rust_typename: Some(std::any::type_name::<PartnerId>()),
        directive_invocations: Vec::new(),
        requires_scopes: Vec::new(),
    }
}

impl InputType for PartnerId {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("PartnerId")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_input_type::<Self, _>(MetaTypeId::Enum, |_| meta())
    }

    /// The schema's validation has checked that the value is one of the
    /// enum's.
    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let value = value.unwrap_or_default();
        let name = match &value {
            Value::Enum(n) => n.as_str(),
            Value::String(s) => s.as_str(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        Partner::by_api_name(name)
            .map(Self)
            .ok_or_else(|| InputValueError::custom(format!("PartnerId has no value {name:?}")))
    }

    fn to_value(&self) -> Value {
        Value::Enum(Name::new(self.0.info().api_name))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

impl OutputType for PartnerId {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("PartnerId")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Enum, |_| meta())
    }

    async fn resolve(
        &self,
        _: &ContextSelectionSet<'_>,
        _: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(self.to_value())
    }
}
