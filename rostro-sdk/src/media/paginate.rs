//! Items across pages.
//!
//! Every list operation marked `pagination` in `openapi/tuning.toml` gets `.stream()` (and
//! `.stream_limit(n)`) on its generated builder: a [`futures::Stream`] of
//! `Result<Item>` that fetches the next page only when the items of the previous one were
//! consumed, so `.take(n)` or a limit stops fetching. Page numbers (`page`) and cursors
//! (`cursor` in, `cursor` out) are followed; the first request is the builder as configured
//! (its page size, filters and starting page or cursor).
//!
//! Items are where the page's type says (its `x-items`: `chats`, `users`, `nodes` then
//! `data.nodes`, ...), else `nodes`, `items`, `data` or another usual list field, at the top
//! level or under `data` (`{"data": {"nodes": [...], "cursor": ...}}`). Builders typed by the
//! generated code decode the page with their response type first, which keeps the members it
//! does not name; [`Client::paginate`] reads the raw page and finds items the same way.
//!
//! | builder | items | pages by |
//! | --- | --- | --- |
//! | `client.search().list()`, `.list_post()` | [`SearchNode`](crate::types::SearchNode) | cursor |
//! | `client.gallery().list()`, `.list_for_project(id)`, `client.images().mine()` | [`GalleryItem`](crate::types::GalleryItem) | page |
//! | `client.imagine().history()` | [`ImaginedItem`](crate::types::ImaginedItem) | cursor |
//! | `client.chats().list()` | [`ChatSummary`](crate::types::ChatSummary) | cursor |
//! | `client.follows().following(u)`, `.followers(u)` | [`UserSummary`](crate::types::UserSummary) | page |
//! | `client.logs().search()` | [`PublicLog`](crate::types::PublicLog) | page |
//! | `client.projects().forks(id)` | `serde_json::Value` (no document shows the answer) | cursor |
//!
//! The wiring is generated from the table (`generated/wiring.rs`): the generator refuses an
//! entry whose builder lacks the `page` or `cursor` setter, and takes the item type and where
//! the items are from the answer's type (a tuning type's `x-items`, or a schema's one typed
//! list).
//!
//! ```no_run
//! use futures::{StreamExt, TryStreamExt};
//! use rostro_sdk::Client;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! // At most 12 results, 5 per page: three requests.
//! let names: Vec<String> = client
//!     .search()
//!     .list()
//!     .search("dragon")
//!     .first(5)
//!     .stream_limit(12)
//!     .map_ok(|node| node.name.unwrap_or_default())
//!     .try_collect()
//!     .await?;
//!
//! // All of the imagine history, whatever the envelope.
//! let mut history = client.paginate(client.imagine().history().first(50));
//! while let Some(item) = history.next().await {
//!     println!("{:?}", item?.uuid);
//! }
//! # let _ = names;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt as _, TryStreamExt as _};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::request::Request;
use crate::{Client, Error, Result};

/// A stream of items across pages, from `.stream()` or [`Client::paginate`].
///
/// ```no_run
/// use futures::StreamExt;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// // Pages are fetched as the stream is read; stop after 100 items.
/// let mut items = client.gallery().list_for_project(42).stream_limit(100);
/// while let Some(item) = items.next().await {
///     println!("{:?}", item?.uuid);
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct ItemStream<T> {
    inner: BoxStream<'static, Result<T>>,
    remaining: Option<usize>,
}

impl<T> fmt::Debug for ItemStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemStream")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<T> ItemStream<T> {
    /// Ends the stream after `n` items; no page is fetched after the one holding the
    /// `n`-th item.
    pub fn limit(mut self, n: usize) -> Self {
        self.remaining = Some(self.remaining.map_or(n, |r| r.min(n)));
        self
    }
}

impl<T> Stream for ItemStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        if self.remaining == Some(0) {
            return Poll::Ready(None);
        }
        let next = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(_))) = &next
            && let Some(r) = &mut self.remaining
        {
            *r -= 1;
        }
        next
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A generated builder of a paginated list operation (marked `pagination` in
/// `openapi/tuning.toml`): it has `.stream()` and `.stream_limit(n)`, and
/// [`Client::paginate`] accepts it.
pub trait Paginated: sealed::Sealed + Clone + Send + Sync + 'static {
    /// What the pages list.
    type Item: DeserializeOwned + Send + 'static;

    /// `true` for cursor pagination, `false` for page numbers.
    #[doc(hidden)]
    fn uses_cursor() -> bool;
    /// Where the answer's type says the items are (`x-items` of a tuning type, or the
    /// schema's one list), looked at before the usual keys.
    #[doc(hidden)]
    fn item_paths() -> &'static [&'static str];
    /// This builder set to a page number.
    #[doc(hidden)]
    fn at_page(self, page: i64) -> Self;
    /// This builder set to a cursor.
    #[doc(hidden)]
    fn at_cursor(self, cursor: String) -> Self;
    /// Sends through the builder's own typed `send` and returns the page as JSON.
    #[doc(hidden)]
    fn fetch_typed(self) -> BoxFuture<'static, Result<Value>>;
    /// The builder's request.
    #[doc(hidden)]
    fn into_page_request(self) -> Result<Request>;
}

type Fetcher<B> = Arc<dyn Fn(B) -> BoxFuture<'static, Result<Value>> + Send + Sync>;

impl Client {
    /// Items across the pages of a paginated builder. Unlike the builder's `.stream()`, pages
    /// are read as raw JSON, so items under `data` (`{"data": {"nodes": [...]}}`) are found
    /// too.
    pub fn paginate<B: Paginated>(&self, builder: B) -> ItemStream<B::Item> {
        let client = self.clone();
        let fetch: Fetcher<B> = Arc::new(move |b: B| {
            let client = client.clone();
            Box::pin(async move {
                let req = b.into_page_request()?;
                Ok(client.execute::<Value>(req).await?.into_inner())
            })
        });
        item_stream(builder, fetch)
    }
}

pub(crate) fn typed_stream<B: Paginated>(builder: B) -> ItemStream<B::Item> {
    item_stream(builder, Arc::new(|b: B| b.fetch_typed()))
}

enum Next {
    Initial,
    Page(i64),
    Cursor(String),
}

struct State<B> {
    builder: B,
    fetch: Fetcher<B>,
    next: Next,
    done: bool,
    /// Items on the first page: a shorter page is the last one.
    page_len: Option<usize>,
    /// First and last item of the previous page: a server ignoring the page parameter
    /// repeats it.
    previous: Option<(Value, Value)>,
}

fn item_stream<B: Paginated>(builder: B, fetch: Fetcher<B>) -> ItemStream<B::Item> {
    let state = State {
        builder,
        fetch,
        next: Next::Initial,
        done: false,
        page_len: None,
        previous: None,
    };
    let pages = stream::try_unfold(state, |mut st| async move {
        if st.done {
            return Ok(None);
        }
        let (builder, asked) = match std::mem::replace(&mut st.next, Next::Initial) {
            Next::Initial => (st.builder.clone(), None),
            Next::Page(n) => (st.builder.clone().at_page(n), Some(n)),
            Next::Cursor(c) => (st.builder.clone().at_cursor(c), None),
        };
        let value = (st.fetch)(builder).await?;
        let page = split_page(value, B::item_paths())?;
        let n = page.items.len();
        let signature = page.items.first().cloned().zip(page.items.last().cloned());
        if n == 0 || (signature.is_some() && signature == st.previous) {
            st.done = true;
            return Ok(Some((Vec::new(), st)));
        }
        st.previous = signature;
        let page_len = *st.page_len.get_or_insert(n);
        if B::uses_cursor() {
            match page.cursor {
                Some(c) => st.next = Next::Cursor(c),
                None => st.done = true,
            }
        } else {
            // Without a page number in the answer, the first request is taken as page 1.
            let current = page.page.or(asked).unwrap_or(1);
            let short = n < page_len;
            let last_page = page.pages.is_some_and(|p| current >= p);
            let all_counted = page
                .count
                .is_some_and(|c| (current - 1).max(0) * page_len as i64 + n as i64 >= c);
            if short || last_page || all_counted {
                st.done = true;
            } else {
                st.next = Next::Page(current + 1);
            }
        }
        let items = page
            .items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::from_value::<B::Item>(v).map_err(|e| Error::Decode {
                    operation: "paginate",
                    path: format!("{}[{i}]", page.items_key),
                    message: e.to_string(),
                    snippet: String::new(),
                    response: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((items, st)))
    });
    ItemStream {
        inner: pages
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed(),
        remaining: None,
    }
}

/// The parts of one page.
struct PageParts {
    items: Vec<Value>,
    items_key: String,
    cursor: Option<String>,
    page: Option<i64>,
    pages: Option<i64>,
    count: Option<i64>,
}

/// Fields that hold a page's items, in the order they are looked for.
const ITEM_KEYS: &[&str] = &[
    "nodes",
    "items",
    "results",
    "data",
    "chats",
    "ratings",
    "favorites",
    "followers",
    "following",
    "logs",
    "projects",
    "forks",
    "images",
];

fn number(map: &Map<String, Value>, key: &str) -> Option<i64> {
    match map.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cursor_of(map: &Map<String, Value>) -> Option<String> {
    ["cursor", "next_cursor", "nextCursor"]
        .iter()
        .find_map(|k| match map.get(*k)? {
            Value::String(s) if !s.is_empty() && s != "null" => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// The page's parts, its items taken from the first of `paths` (`chats`, `data.nodes`) that
/// holds a list, else from the usual keys.
fn split_page(value: Value, paths: &[&str]) -> Result<PageParts> {
    let Value::Object(mut map) = value else {
        return split_known(value);
    };
    for path in paths {
        if let Some(parts) = split_at(&mut map, path) {
            return Ok(parts);
        }
    }
    split_known(Value::Object(map))
}

/// The items at a dotted `path`, with the page's cursor and counts read beside the list first,
/// then at the top level; `None` when no list is there.
fn split_at(map: &mut Map<String, Value>, path: &str) -> Option<PageParts> {
    let (parents, key) = match path.rsplit_once('.') {
        Some((p, k)) => (Some(p), k),
        None => (None, path),
    };
    let mut parent = &mut *map;
    for seg in parents.into_iter().flat_map(|p| p.split('.')) {
        parent = parent.get_mut(seg)?.as_object_mut()?;
    }
    if !parent.get(key).is_some_and(Value::is_array) {
        return None;
    }
    let Some(Value::Array(items)) = parent.remove(key) else {
        return None;
    };
    let mut parts = page_parts(parent, items, path.to_owned());
    if parents.is_some() {
        let top = page_parts(map, Vec::new(), String::new());
        parts.cursor = parts.cursor.or(top.cursor);
        parts.page = parts.page.or(top.page);
        parts.pages = parts.pages.or(top.pages);
        parts.count = parts.count.or(top.count);
    }
    Some(parts)
}

/// A page's items with the cursor and counts of the object beside them.
fn page_parts(map: &Map<String, Value>, items: Vec<Value>, key: String) -> PageParts {
    PageParts {
        items,
        items_key: key,
        cursor: cursor_of(map),
        page: number(map, "page"),
        pages: number(map, "pages"),
        count: number(map, "count").or_else(|| number(map, "total")),
    }
}

/// A page whose items sit at one of the usual keys, flat or under `data`.
fn split_known(value: Value) -> Result<PageParts> {
    let no_items = |what: &str| Error::Decode {
        operation: "paginate",
        path: ".".into(),
        message: format!(
            "{what}: no list of items (looked for {} at the top level and under `data`)",
            ITEM_KEYS.join(", ")
        ),
        snippet: String::new(),
        response: None,
    };
    let mut map = match value {
        Value::Array(items) => {
            return Ok(PageParts {
                items,
                items_key: String::new(),
                cursor: None,
                page: None,
                pages: None,
                count: None,
            });
        }
        Value::Object(map) => map,
        Value::Null => return Err(no_items("empty page")),
        _ => return Err(no_items("the page is not a json object")),
    };
    let key = ITEM_KEYS
        .iter()
        .find(|k| map.get(**k).is_some_and(Value::is_array));
    let outer = page_parts;
    if let Some(key) = key {
        let Some(Value::Array(items)) = map.remove(*key) else {
            unreachable!("checked above")
        };
        return Ok(outer(&map, items, (*key).to_owned()));
    }
    if let Some(Value::Object(data)) = map.remove("data") {
        let mut inner = split_known(Value::Object(data))?;
        inner.items_key = format!("data.{}", inner.items_key);
        let top = outer(&map, Vec::new(), String::new());
        inner.cursor = inner.cursor.or(top.cursor);
        inner.page = inner.page.or(top.page);
        inner.pages = inner.pages.or(top.pages);
        inner.count = inner.count.or(top.count);
        return Ok(inner);
    }
    Err(no_items("unrecognised page"))
}

// ---------------------------------------------------------------------------------------------
// The builders.

/// Makes generated builders [`Paginated`]: `generated/wiring.rs` invokes it with one
/// `builder => item, style, [paths];` line per `pagination` entry of `openapi/tuning.toml`,
/// where style is `page` (the builder's `page(n)` setter) or `cursor` (its `cursor(c)` setter)
/// and paths say where the answer's type holds the items (its `x-items`).
macro_rules! paginated {
    (@cursor cursor) => { true };
    (@cursor page) => { false };
    (@page page, $b:expr, $n:expr) => { $b.page($n) };
    (@page cursor, $b:expr, $n:expr) => { $b };
    (@at_cursor cursor, $b:expr, $c:expr) => { $b.cursor($c) };
    (@at_cursor page, $b:expr, $c:expr) => { $b };
    ($($(#[$meta:meta])* $builder:ty => $item:ty, $style:ident, [$($path:literal),*];)*) => {$(
        $(#[$meta])*
        impl $crate::media::paginate::sealed::Sealed for $builder {}

        $(#[$meta])*
        impl $crate::media::paginate::Paginated for $builder {
            type Item = $item;

            fn uses_cursor() -> bool {
                $crate::media::paginate::paginated!(@cursor $style)
            }

            fn item_paths() -> &'static [&'static str] {
                &[$($path),*]
            }

            #[allow(unused_variables)]
            fn at_page(self, page: i64) -> Self {
                $crate::media::paginate::paginated!(@page $style, self, page)
            }

            #[allow(unused_variables)]
            fn at_cursor(self, cursor: String) -> Self {
                $crate::media::paginate::paginated!(@at_cursor $style, self, cursor)
            }

            fn fetch_typed(
                self,
            ) -> ::futures::future::BoxFuture<'static, $crate::Result<::serde_json::Value>> {
                Box::pin(async move {
                    let page = self.send().await?;
                    ::serde_json::to_value(page).map_err(|e| $crate::Error::Decode {
                        operation: "paginate",
                        path: ".".into(),
                        message: e.to_string(),
                        snippet: String::new(),
                        response: None,
                    })
                })
            }

            fn into_page_request(self) -> $crate::Result<$crate::request::Request> {
                self.into_request()
            }
        }

        $(#[$meta])*
        impl $builder {
            /// Items across pages, fetched lazily (see [`crate::media::paginate`]).
            pub fn stream(self) -> $crate::media::paginate::ItemStream<$item> {
                $crate::media::paginate::typed_stream(self)
            }

            /// At most `n` items across pages; stops fetching once they arrived.
            pub fn stream_limit(self, n: usize) -> $crate::media::paginate::ItemStream<$item> {
                $crate::media::paginate::typed_stream(self).limit(n)
            }
        }
    )*};
}
pub(crate) use paginated;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_are_found_flat_or_under_data() {
        let p = split_page(json!({"nodes": [1, 2], "cursor": "c2", "count": 9}), &[]).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.cursor.as_deref(), Some("c2"));
        assert_eq!(p.count, Some(9));
        let p = split_page(
            json!({"data": {"nodes": [1], "cursor": "x"}, "page": 2}),
            &[],
        )
        .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.cursor.as_deref(), Some("x"));
        assert_eq!(p.page, Some(2));
        assert_eq!(p.items_key, "data.nodes");
        let p = split_page(json!({"items": [], "cursor": null}), &[]).unwrap();
        assert!(p.items.is_empty() && p.cursor.is_none());
        let p = split_page(json!([{"a": 1}]), &[]).unwrap();
        assert_eq!(p.items.len(), 1);
        assert!(split_page(json!({"count": 3}), &[]).is_err());
    }

    #[test]
    fn the_types_item_paths_come_first() {
        // The guide's follows page: `users`, which no usual key names.
        let p = split_page(json!({"count": 3, "users": [1, 2], "page": 1}), &["users"]).unwrap();
        assert_eq!((p.items.len(), p.count, p.page), (2, Some(3), Some(1)));
        assert_eq!(p.items_key, "users");
        assert!(split_page(json!({"count": 3, "users": [1]}), &[]).is_err());
        // A nested path reads the cursor beside the list, else at the top.
        let v = json!({"data": {"nodes": [1], "cursor": "in"}, "cursor": "out", "count": 5});
        let p = split_page(v, &["nodes", "data.nodes"]).unwrap();
        assert_eq!(p.items_key, "data.nodes");
        assert_eq!((p.cursor.as_deref(), p.count), (Some("in"), Some(5)));
        // A path that holds no list falls through to the next, then to the usual keys.
        let p = split_page(json!({"users": null, "items": [7]}), &["users"]).unwrap();
        assert_eq!(p.items_key, "items");
    }
}
