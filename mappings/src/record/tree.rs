//! The record as paths read it: the [`Tree`] a path walks, and [`Json`],
//! the JSON value every wire format's reader gives, whose texts are
//! borrowed from the payload where they need no unescaping.

use std::borrow::Cow;

use serde_json::Value;

/// A record as paths read it: a JSON value, whatever holds it. A record
/// read from XML, CSV or iCalendar is a [`serde_json::Value`]; a JSON
/// payload is read into a [`Json`] that borrows its texts from the payload.
pub trait Tree: Sized {
    /// The value under `key`, for an object.
    fn child(&self, key: &str) -> Option<&Self>;
    /// The elements, for an array.
    fn items(&self) -> Option<&[Self]>;
    /// Hands `f` each value of an object, in the object's order.
    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self));
    /// The text of a string, number or boolean.
    fn text(&self) -> Option<std::borrow::Cow<'_, str>>;
}

impl Tree for Value {
    fn child(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self)) {
        if let Value::Object(map) = self {
            map.values().for_each(f);
        }
    }

    fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::String(s) => Some(s.as_str().into()),
            Value::Number(n) => Some(n.to_string().into()),
            Value::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }
}

/// A JSON value whose texts are borrowed from the payload (those with
/// escapes excepted): reading a page of records takes an allocation per
/// object and array, not one per key and text as a [`Value`] does.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(std::borrow::Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members, in the payload's order.
    Object(Vec<(std::borrow::Cow<'a, str>, Json<'a>)>),
}

impl Tree for Json<'_> {
    fn child(&self, key: &str) -> Option<&Self> {
        match self {
            // The last of repeated keys, as serde_json keeps it.
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self)) {
        if let Json::Object(members) = self {
            members.iter().for_each(|(_, v)| f(v));
        }
    }

    fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Json::String(s) => Some(s.as_ref().into()),
            Json::Number(n) => Some(n.to_string().into()),
            Json::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }
}

impl From<Json<'_>> for Value {
    fn from(v: Json<'_>) -> Self {
        match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s.into_owned()),
            Json::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            Json::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

/// An object's members as a reader builds them, in the payload's order.
pub(super) type Members<'a> = Vec<(Cow<'a, str>, Json<'a>)>;

/// Adds `child` to `members` under `name`: a name given again (a repeated
/// XML element, a repeated iCalendar property) holds an array of its
/// values, in order.
pub(super) fn insert_child<'a>(members: &mut Members<'a>, name: Cow<'a, str>, child: Json<'a>) {
    match members.iter_mut().find(|(k, _)| *k == name) {
        Some((_, Json::Array(items))) => items.push(child),
        Some((_, existing)) => {
            let first = std::mem::replace(existing, Json::Null);
            *existing = Json::Array(vec![first, child]);
        }
        None => members.push((name, child)),
    }
}
