//! What a check says about a generation.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::generated::imagine::IMAGINE_CHECK;
use crate::generated::tasks::TASKS_CHECK;
use crate::types::{GenerationRejection, ImaginedItem};
use crate::{Error, Result};

/// Which endpoint a generation is checked with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PollEndpoint {
    /// `POST /imagine/check` (generations started with `POST /imagine`).
    Imagine,
    /// `POST /check` (per-type endpoints answering a `TimedResponse`).
    Check,
}

impl PollEndpoint {
    pub(super) fn operation(self) -> &'static str {
        match self {
            PollEndpoint::Imagine => IMAGINE_CHECK.id,
            PollEndpoint::Check => TASKS_CHECK.id,
        }
    }
}

/// Where a generation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GenerationState {
    /// Queued or running.
    Pending,
    /// Finished; the media URLs are set.
    Done,
    /// Finished with an error (`error.reason`).
    Failed,
}

/// One answer about a generation, normalised to an [`ImaginedItem`] for both endpoints.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GenerationStatus {
    /// Pending, done or failed.
    pub state: GenerationState,
    /// The item (for `/check` answers: `primary_image_path` becomes `primary_media_url`).
    pub item: ImaginedItem,
    /// Place in the queue, when reported.
    pub queue_length: Option<i64>,
}

impl GenerationStatus {
    /// Reads an `ImaginedItem` (`/imagine`, `/imagine/check`) or a `TimedResponse`
    /// (per-type endpoints, `/check`).
    pub(super) fn from_value(
        value: Value,
        endpoint: PollEndpoint,
        operation: &'static str,
    ) -> Result<Self> {
        let decode_error = |e: serde_json::Error| Error::Decode {
            operation,
            path: ".".into(),
            message: e.to_string(),
            snippet: crate::error::snippet(value.to_string().as_bytes()),
            response: None,
        };
        let Some(map) = value.as_object() else {
            return Err(Error::Decode {
                operation,
                path: ".".into(),
                message: "expected a json object".into(),
                snippet: crate::error::snippet(value.to_string().as_bytes()),
                response: None,
            });
        };
        let flag = |k: &str| map.get(k).and_then(Value::as_bool);
        let text = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let queue_length = map.get("queue_length").and_then(Value::as_i64);
        let item: ImaginedItem = match endpoint {
            PollEndpoint::Imagine => serde_json::from_value(value.clone()).map_err(decode_error)?,
            PollEndpoint::Check => {
                let error: Option<GenerationRejection> = match map.get("error") {
                    Some(e) if e.is_object() => {
                        Some(serde_json::from_value(e.clone()).map_err(decode_error)?)
                    }
                    _ => None,
                };
                ImaginedItem {
                    generation_uuid: text("generation_uuid"),
                    cost: map.get("cost").and_then(Value::as_f64),
                    primary_media_url: text("primary_media_url")
                        .or_else(|| text("primary_image_path")),
                    description: text("description"),
                    prompt: map.get("prompt").filter(|p| !p.is_null()).cloned(),
                    is_done: flag("is_done"),
                    is_failed: flag("is_failed"),
                    uuid: text("uuid"),
                    info: match map.get("info") {
                        Some(i) if i.is_object() => serde_json::from_value(i.clone()).ok(),
                        _ => None,
                    },
                    secondary_media_urls: match map.get("secondary_media_urls") {
                        Some(s) if s.is_object() => serde_json::from_value(s.clone()).ok(),
                        _ => None,
                    },
                    error,
                    note: text("note"),
                }
            }
        };
        let state = if item.is_failed == Some(true) {
            GenerationState::Failed
        } else if item.is_done == Some(true)
            || (item.is_done.is_none() && item.primary_media_url.is_some())
        {
            GenerationState::Done
        } else {
            GenerationState::Pending
        };
        Ok(GenerationStatus {
            state,
            item,
            queue_length,
        })
    }
}

/// What the progress callback of [`Generation::wait`](super::Generation::wait) sees after every check.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// The state after this check.
    pub state: GenerationState,
    /// Time since [`Generation::wait`](super::Generation::wait) started.
    pub elapsed: Duration,
    /// The number of this check (1 for the first).
    pub attempt: u32,
    /// Place in the queue, when reported.
    pub queue_length: Option<i64>,
}

pub(super) type WaitCallback = Arc<dyn Fn(&WaitProgress) + Send + Sync>;
