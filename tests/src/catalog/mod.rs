//! The seeded catalog of characters and lorebooks behind `GET|POST /search`,
//! `POST /minisearch` and `POST /tags`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::reply::Reply;
use crate::util::{SplitMix64, mix64, rfc3339};

mod data;
mod entry;
mod lore;
mod page;
mod words;

pub use self::data::TAGS;
pub use self::data::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use self::entry::{Catalog, CatalogEntry};
pub(crate) use self::{data::*, page::*};
use self::{lore::*, words::*};
