//! Uploads, hashed while they stream in.
//!
//! * Multipart endpoints and `POST /api/gallery/upload` are read frame by
//!   frame by the front listener; file bytes go through a SHA-256 hasher and
//!   are only kept when the file is small (see `retain_upload_bytes`).
//! * The chunked flow stores parts by streaming them into the running hash of
//!   the whole file when they arrive in order; parts that arrive early are
//!   spooled (memory up to 8 MiB, then a temp file) and folded in as soon as
//!   the gap before them closes. Memory stays bounded for 1 GiB uploads.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use futures::StreamExt;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::media::{content_type_for_ext, ext_for_mime, sniff_ext};
use crate::records::{PartRecord, UploadKind, UploadRecord};
use crate::reply::Reply;
use crate::state::{Shared, lock};

const SPOOL_MEMORY_LIMIT: usize = 8 * 1024 * 1024;
const TEXT_FIELD_LIMIT: usize = 1024 * 1024;
const SKELETON_LIMIT: usize = 4 * 1024 * 1024;
const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;

mod chunked;
mod gallery;
mod listing;
mod multipart;
mod sink;

pub(crate) use self::{chunked::*, gallery::*, listing::*, multipart::*, sink::*};
