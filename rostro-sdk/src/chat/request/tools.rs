//! Tools, tool choice, response formats and web search options of a chat request.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tool the model may call. Only function tools exist today.
///
/// ```
/// use rostro_sdk::chat::Tool;
/// use serde_json::json;
///
/// let weather = Tool::function(
///     "get_weather",
///     "Current weather for a city",
///     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
/// );
/// assert_eq!(serde_json::to_value(&weather).unwrap()["type"], "function");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Tool type, `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

fn function_type() -> String {
    "function".to_owned()
}

impl Tool {
    /// A function tool with a JSON Schema for its arguments.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Tool {
            kind: function_type(),
            function: FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
        }
    }

    /// Sets `strict` (arguments must follow the schema exactly).
    pub fn strict(mut self, on: bool) -> Self {
        self.function.strict = Some(on);
        self
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// Function name (`a-z A-Z 0-9 _ -`, at most 64 characters).
    pub name: String,
    /// What the function does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Require the arguments to follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice` (and the legacy `function_call`): `"none"`, `"auto"`, `"required"` or a
/// named function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// Never call a tool.
    None,
    /// Let the model decide.
    Auto,
    /// Call at least one tool.
    Required,
    /// Call this function: `{"type": "function", "function": {"name": ...}}` (for the legacy
    /// `function_call`, `{"name": ...}`; both shapes are read).
    Function(String),
    /// A mode this SDK does not know, sent as the string.
    Other(String),
}

impl ToolChoice {
    /// Call the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        ToolChoice::Function(name.into())
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Other(mode) => s.serialize_str(mode),
            ToolChoice::Function(name) => {
                struct Name<'a>(&'a str);
                impl Serialize for Name<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut m = s.serialize_map(Some(1))?;
                        m.serialize_entry("name", self.0)?;
                        m.end()
                    }
                }
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "function")?;
                m.serialize_entry("function", &Name(name))?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => match s.as_str() {
                "none" => ToolChoice::None,
                "auto" => ToolChoice::Auto,
                "required" => ToolChoice::Required,
                _ => ToolChoice::Other(s),
            },
            Value::Object(o) => {
                let name = o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .or_else(|| o.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| de::Error::custom("a named tool choice needs a name"))?;
                ToolChoice::Function(name.to_owned())
            }
            _ => return Err(de::Error::custom("expected a string or an object")),
        })
    }
}

/// `response_format`.
///
/// ```
/// use rostro_sdk::chat::ResponseFormat;
/// use serde_json::json;
///
/// let format = ResponseFormat::json_schema("answer", json!({"type": "object"}));
/// assert_eq!(serde_json::to_value(&format).unwrap()["type"], "json_schema");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaFormat,
    },
    /// Free text with tagged structures (vLLM, `/prompt`): after one of the `triggers`, the
    /// model writes one of the `structures`.
    StructuralTag {
        /// The structures the model may write.
        structures: Vec<StructuralTag>,
        /// Texts after which a structure starts.
        triggers: Vec<String>,
    },
}

/// One structure of a `structural_tag` response format: `begin`, JSON matching `schema`,
/// `end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuralTag {
    /// The text that opens the structure.
    pub begin: String,
    /// The JSON Schema of what stands between `begin` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// The text that closes the structure.
    pub end: String,
}

impl ResponseFormat {
    /// JSON matching `schema`, strictly.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                description: None,
                schema: Some(schema),
                strict: Some(true),
            },
        }
    }
}

/// The schema of a `json_schema` response format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// Name of the format.
    pub name: String,
    /// What the format is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Enforce the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `web_search_options` for search-enabled models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSearchOptions {
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_context_size: Option<String>,
    /// Approximate location of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<UserLocation>,
}

/// The user's approximate location for web search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLocation {
    /// Location type, `approximate`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The location.
    pub approximate: ApproximateLocation,
}

impl UserLocation {
    /// An approximate location.
    pub fn approximate(location: ApproximateLocation) -> Self {
        UserLocation {
            kind: "approximate".to_owned(),
            approximate: location,
        }
    }
}

/// City, region, country (ISO 3166-1 alpha-2) and IANA time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproximateLocation {
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Region or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}
