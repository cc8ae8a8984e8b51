//! Decoding structs that keep their unknown fields in `extra`, without serde's `flatten`.
//!
//! `#[serde(flatten)]` makes serde buffer the whole object (and so every object inside it)
//! into an intermediate tree before decoding the fields out of it; a model list paid that for
//! the list and again for each model, on every call. These impls read the object once: a
//! known key decodes into its field, any other key into `extra`. The result is the derive's
//! with `#[serde(default)]` and a flattened `extra`: missing fields keep the struct's
//! `Default`, a repeated known field is an error, a repeated unknown one keeps the last value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// An object key, borrowed from the input when it has no escapes (no allocation for a known
/// field).
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// `impl Deserialize` for a `Default` struct with the named fields and an
/// `extra: Map<String, Value>` for the rest. Every field must be listed: the impl does not
/// compile otherwise (an unlisted field would silently land in `extra`).
macro_rules! deserialize_keeping_extra {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct FieldsVisitor;
                impl<'de> ::serde::de::Visitor<'de> for FieldsVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        $(let mut $field = false;)*
                        while let Some(key) = map.next_key::<$crate::routstr::types::keep_extra::Key<'de>>()? {
                            match &*key.0 {
                                $(stringify!($field) => {
                                    if $field {
                                        return Err(::serde::de::Error::duplicate_field(stringify!($field)));
                                    }
                                    $field = true;
                                    out.$field = map.next_value()?;
                                })*
                                _ => {
                                    out.extra.insert(key.0.into_owned(), map.next_value()?);
                                }
                            }
                        }
                        // Compile-time check that every field is listed.
                        let $name { $($field: _,)* extra: _ } = &out;
                        Ok(out)
                    }
                }
                d.deserialize_map(FieldsVisitor)
            }
        }
    };
}

pub(super) use deserialize_keeping_extra;
