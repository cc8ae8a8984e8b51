//! `POST /imagine/history`: generations and gallery uploads, filtered, sorted and
//! paged by cursor.

use serde_json::{Value, json};

use super::{imagined_item, upload_item};
use crate::catalog::{decode_cursor, encode_cursor};
use crate::reply::Reply;
use crate::state::{Shared, lock};

/// What a history request asks for.
struct HistoryQuery {
    first: usize,
    gen_uuids: Option<Vec<String>>,
    uuids: Option<Vec<String>>,
    media_types: Option<Vec<String>>,
    generated_only: bool,
    asc: bool,
    order_by: String,
    offset: usize,
}

/// `first`: 10 by default, at most 500; anything but a positive integer is a 422.
fn page_size(body: &Value) -> Result<usize, Reply> {
    match body.get("first") {
        None | Some(Value::Null) => Ok(10),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Ok(n.min(500) as usize),
            _ => Err(Reply::validation(
                &["body", "first"],
                "Input should be a positive integer",
                "int_parsing",
            )),
        },
    }
}

/// Where the page starts: the cursor's offset (none or empty: 0).
fn offset(body: &Value) -> Result<usize, Reply> {
    match body
        .get("cursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        Some(c) => match decode_cursor(c) {
            Some(o) => Ok(o),
            // 400 is not declared for this operation; 422 is.
            None => Err(Reply::validation(
                &["body", "cursor"],
                "Invalid pagination cursor.",
                "value_error",
            )),
        },
        None => Ok(0),
    }
}

impl HistoryQuery {
    /// Reads the body; a bad `first` or `cursor` is the API's 422.
    fn parse(body: &Value) -> Result<HistoryQuery, Reply> {
        let first = page_size(body)?;
        let strings = |key: &str| -> Option<Vec<String>> {
            body.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        };
        Ok(HistoryQuery {
            first,
            gen_uuids: strings("generation_uuids"),
            uuids: strings("uuids"),
            media_types: strings("media_types"),
            generated_only: body
                .get("generated_only")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            asc: body.get("asc").and_then(Value::as_bool).unwrap_or(false),
            order_by: body
                .get("order_by")
                .and_then(Value::as_str)
                .unwrap_or("created_at")
                .to_string(),
            offset: offset(body)?,
        })
    }
}

/// Whether `list` (when given) leaves `item` out.
fn excluded(list: Option<&Vec<String>>, item: &String) -> bool {
    list.is_some_and(|l| !l.contains(item))
}

/// The matching items as (seq, uuid, item): generations, then gallery uploads unless
/// the filters are about generations only.
fn matching(shared: &Shared, q: &HistoryQuery) -> Vec<(u64, String, Value)> {
    let mut items = Vec::new();
    for g in lock(&shared.generations).iter().filter(|g| !g.deleted) {
        if excluded(q.gen_uuids.as_ref(), &g.generation_uuid)
            || excluded(q.uuids.as_ref(), &g.media_uuid)
            || excluded(q.media_types.as_ref(), &g.generation_type)
        {
            continue;
        }
        items.push((g.seq, g.media_uuid.clone(), imagined_item(shared, g, false)));
    }
    if !q.generated_only && q.gen_uuids.is_none() && q.media_types.is_none() {
        for u in lock(&shared.uploads)
            .iter()
            .filter(|u| u.in_gallery && !u.deleted)
        {
            if excluded(q.uuids.as_ref(), &u.uuid) {
                continue;
            }
            items.push((u.seq, u.uuid.clone(), upload_item(u)));
        }
    }
    items
}

/// `POST /imagine/history`.
pub(crate) fn history(shared: &Shared, body: &Value) -> Reply {
    let q = match HistoryQuery::parse(body) {
        Ok(q) => q,
        Err(e) => return e,
    };
    let mut items = matching(shared, &q);
    if q.order_by == "uuid" {
        items.sort_by(|a, b| a.1.cmp(&b.1));
    } else {
        items.sort_by_key(|i| i.0);
    }
    if !q.asc {
        items.reverse();
    }
    let (first, offset) = (q.first, q.offset);
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(first)
        .map(|i| i.2)
        .collect();
    let next = offset + page.len();
    Reply::ok(json!({
        "items": page,
        "previous_cursor": if offset > 0 { Value::from(encode_cursor(offset.saturating_sub(first))) } else { Value::Null },
        "cursor": if next < total { Value::from(encode_cursor(next)) } else { Value::Null },
    }))
}
