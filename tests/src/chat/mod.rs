//! The OpenAI-compatible (mimic) endpoints: deterministic completions,
//! tool calls, and SSE streams generated lazily chunk by chunk.

use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http::HeaderMap;
use hyper::body::Frame;
use serde_json::{Map, Value, json};

use crate::reply::Reply;
use crate::state::{Scenarios, Shared};
use crate::util::{mix64, unix_now};

mod answer;
mod plan;
mod sse;

pub(crate) use self::{plan::*, sse::*};
