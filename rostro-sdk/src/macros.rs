//! Macros the generated code expands, so behaviour shared by every generated type and builder
//! lives in one hand-written place.

/// Declares a string enum with a catch-all `Unknown(String)` variant: a value the server adds
/// later decodes instead of failing, and re-encodes unchanged.
#[doc(hidden)]
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the SDK does not know, kept as the server sent it.
            Unknown(String),
        }

        impl $name {
            /// Every value this version of the SDK knows, in the spec's order.
            pub const KNOWN: &'static [&'static str] = &[$($value),*];

            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(other) => other,
                }
            }

            /// Whether this is a value the SDK knows (not `Unknown`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $value => Self::$variant, )*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}

/// Gives a generated request builder its `send` methods and the per-call options of
/// [`CallOptions`](crate::CallOptions). Every builder sends through the one runtime path,
/// [`Client::execute`](crate::Client::execute).
#[doc(hidden)]
#[macro_export]
macro_rules! operation_builder {
    ($builder:ident, $output:ty) => {
        impl $builder {
            /// Sends the request and decodes the answer.
            pub async fn send(self) -> $crate::Result<$output> {
                let client = self.client.clone();
                let request = self.into_request()?;
                client.execute_value(request).await
            }

            /// Sends the request; returns the decoded answer together with the response
            /// metadata (status, headers, request id, rate limits, attempts).
            pub async fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                let client = self.client.clone();
                let request = self.into_request()?;
                client.execute(request).await
            }
        }

        impl $crate::request::CallOptions for $builder {
            fn options_mut(&mut self) -> &mut $crate::request::RequestOptions {
                &mut self.options
            }
        }
    };
}
