//! Pagination against the mock: search (cursor, flat and `data` envelopes) with a limit,
//! imagine history (cursor), the gallery (page numbers), and the typed items of chats
//! (cursor), follows and public logs (page numbers, answers in the guide's and overview's
//! shapes).

mod common;

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use rostro_mock::{RostroMock, SearchEnvelope};
use rostro_sdk::CallOptions;
use rostro_sdk::request::FilePart;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use common::client;

#[tokio::test]
async fn search_pages_stop_at_the_limit() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let nodes: Vec<_> = client
        .search()
        .list()
        .first(5)
        .stream_limit(12)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(nodes.len(), 12);
    let ids: HashSet<i64> = nodes.iter().map(|n| n.id).collect();
    assert_eq!(ids.len(), 12, "no repeats across pages");
    assert_eq!(
        mock.attempts("GET", "/search"),
        3,
        "no more pages than needed"
    );
    // Pages after the first followed the cursor.
    let requests = mock.requests_to("GET", "/search");
    assert!(requests[0].query_pairs().iter().all(|(k, _)| k != "cursor"));
    assert!(requests[1].query_pairs().iter().any(|(k, _)| k == "cursor"));

    // `take` has the same effect.
    mock.clear_received();
    let taken: Vec<_> = client
        .search()
        .list()
        .first(10)
        .stream()
        .take(10)
        .collect()
        .await;
    assert_eq!(taken.len(), 10);
    assert_eq!(mock.attempts("GET", "/search"), 1);
}

#[tokio::test]
async fn search_runs_to_the_end() {
    let mock = RostroMock::builder().catalog_size(23, 0).start().await;
    let client = client(&mock);
    // NSFW entries too (the API leaves them out by default): the whole catalog.
    let all: Vec<_> = client
        .search()
        .list()
        .first(10)
        .nsfw(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 23);
    assert_eq!(mock.attempts("GET", "/search"), 3);
}

#[tokio::test]
async fn search_results_under_data_are_found_by_paginate() {
    let mock = RostroMock::builder()
        .search_envelope(SearchEnvelope::Data)
        .start()
        .await;
    let client = client(&mock);
    let nodes: Vec<_> = client
        .paginate(client.search().list().first(10))
        .limit(25)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(nodes.len(), 25);
    assert!(nodes.iter().all(|n| n.name.is_some()));
    assert_eq!(mock.attempts("GET", "/search"), 3);

    // Also per request (`x-mock-envelope`), and through the POST variant.
    let nodes: Vec<_> = client
        .paginate(
            client
                .search()
                .list_post()
                .first(4)
                .extra_header("x-mock-envelope", "data"),
        )
        .limit(6)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(nodes.len(), 6);

    // The typed `.stream()` sees inside `data` too: the page type keeps members it does not
    // name (`extra()`), so the envelope reaches the page splitter.
    let nodes: Vec<_> = client
        .search()
        .list()
        .first(4)
        .stream()
        .take(6)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(nodes.len(), 6);
    assert!(nodes.iter().all(|n| n.name.is_some()));
}

#[tokio::test]
async fn imagine_history_follows_cursors() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    for i in 0..7 {
        client
            .imagine()
            .create()
            .prompt(format!("picture {i}"))
            .send()
            .await
            .unwrap();
    }
    let items: Vec<_> = client
        .imagine()
        .history()
        .first(3)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 7);
    let uuids: HashSet<_> = items.iter().map(|i| i.uuid.clone().unwrap()).collect();
    assert_eq!(uuids.len(), 7);
    let requests = mock.requests_to("POST", "/imagine/history");
    assert_eq!(requests.len(), 3);
    assert!(requests[0].body_json().unwrap().get("cursor").is_none());
    let second = requests[1].body_json().unwrap();
    assert!(second["cursor"].is_string());
    assert_eq!(second["first"], 3);

    // The same through `paginate`, stopping early.
    mock.clear_received();
    let two: Vec<_> = client
        .paginate(client.imagine().history().first(2))
        .limit(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(two.len(), 3);
    assert_eq!(mock.requests_to("POST", "/imagine/history").len(), 2);
}

#[tokio::test]
async fn gallery_pages_by_number() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    for i in 0..5 {
        client
            .gallery()
            .upload_file(
                9,
                FilePart::from_bytes(format!("{i}.png"), vec![i as u8; 10]),
            )
            .send()
            .await
            .unwrap();
    }
    let items: Vec<_> = client
        .gallery()
        .list_for_project(9)
        .limit(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    let pages: Vec<String> = mock
        .requests_to("GET", "/api/gallery/project/{project_id}")
        .iter()
        .map(|r| {
            r.query_pairs()
                .into_iter()
                .find(|(k, _)| k == "page")
                .map(|(_, v)| v)
                .unwrap_or_default()
        })
        .collect();
    // The short third page is the last one.
    assert_eq!(pages, vec!["", "2", "3"]);
}

#[tokio::test]
async fn chats_stream_typed_summaries_by_cursor() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    for i in 0..5 {
        client
            .chats()
            .create()
            .body(json!({"name": format!("harbour {i}"), "character_id": 7}))
            .send()
            .await
            .unwrap();
    }
    let chats = client.chats().list().limit(2).stream();
    let chats: Vec<rostro_sdk::types::ChatSummary> = chats.try_collect().await.unwrap();
    let names: Vec<_> = chats.iter().map(|c| c.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "harbour 4",
            "harbour 3",
            "harbour 2",
            "harbour 1",
            "harbour 0"
        ],
        "newest first, across three pages"
    );
    assert!(chats.iter().all(|c| c.character_id == Some(7)));
    let requests = mock.requests_to("GET", "/api/core/chats");
    assert_eq!(requests.len(), 3);
    let cursor = |i: usize| {
        requests[i]
            .query_pairs()
            .into_iter()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v)
    };
    assert_eq!((cursor(0), cursor(1)), (None, Some("2".to_owned())));
}

/// Answers `GET route` with `first` when no `page` is asked for, and `pages[n - 2]` for page n.
async fn mount_pages(mock: &RostroMock, route: &str, first: Value, pages: &[Value]) {
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .with_priority(1)
        .mount(mock.server())
        .await;
    for (i, page) in pages.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(route))
            .and(query_param("page", (i + 2).to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .with_priority(1)
            .mount(mock.server())
            .await;
    }
}

#[tokio::test]
async fn follows_and_public_logs_stream_typed_items_by_page() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    // The guide's follows answer, `{count, users}`: no usual key holds the items.
    let user = |name: &str| json!({"username": name, "id": 5, "avatar_url": null, "badge": "new"});
    mount_pages(
        &mock,
        "/api/followers/You",
        json!({"count": 3, "users": [user("ana"), user("bo")]}),
        &[json!({"count": 3, "users": [user("cy")]})],
    )
    .await;
    let users: Vec<rostro_sdk::types::UserSummary> = client
        .follows()
        .followers("You")
        .stream()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = users
        .iter()
        .map(|u| u.username.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["ana", "bo", "cy"]);
    // Lenient and lossless: a number id reads as text, an undocumented member is kept.
    assert_eq!(users[0].id.as_deref(), Some("5"));
    assert_eq!(users[0].extra()["badge"], "new");
    assert_eq!(
        mock.attempts("GET", "/api/followers/{username}"),
        2,
        "the count says two pages"
    );

    // The overview's public logs page, `{logs, count, page, pages}`.
    let log = |id: i64| json!({"id": id, "title": format!("log {id}"), "message_count": "12"});
    mount_pages(
        &mock,
        "/api/logs/search",
        json!({"logs": [log(1), log(2)], "count": 3, "page": 1, "pages": 2}),
        &[json!({"logs": [log(3)], "count": 3, "page": 2, "pages": 2})],
    )
    .await;
    let logs: Vec<rostro_sdk::types::PublicLog> = client
        .logs()
        .search()
        .first(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = logs.iter().map(|l| l.id.unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(logs[2].title.as_deref(), Some("log 3"));
    assert_eq!(logs[0].message_count, Some(12));
    assert_eq!(mock.attempts("GET", "/api/logs/search"), 2);
}
