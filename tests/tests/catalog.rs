//! Catalog search: filters, sorting, page and cursor paging, lorebooks, tags.

mod common;

use std::collections::BTreeSet;

use common::{client, get_json, post_json, status_json};
use rostro_mock::{RostroMock, SearchEnvelope};
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<u64> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn catalog_is_large_enough_and_seeded() {
    let a = RostroMock::builder().seed(7).start().await;
    let b = RostroMock::builder().seed(7).start().await;
    let c = RostroMock::builder().seed(8).start().await;
    assert!(a.catalog().characters().count() >= 500);
    assert!(a.catalog().lorebooks().count() >= 100);
    let (_, pa) = get_json(&a, "/search?first=30&sort=id").await;
    let (_, pb) = get_json(&b, "/search?first=30&sort=id").await;
    let (_, pc) = get_json(&c, "/search?first=30&sort=id").await;
    assert_eq!(pa["nodes"][0]["name"], pb["nodes"][0]["name"]);
    assert_eq!(ids(&pa), ids(&pb));
    assert_ne!(pa["nodes"], pc["nodes"]);
}

#[tokio::test]
async fn page_paging_walks_every_result_once() {
    let mock = RostroMock::start().await;
    let total = mock.catalog().characters().count();
    let mut seen = BTreeSet::new();
    let mut page = 1;
    loop {
        let (s, v) = get_json(&mock, &format!("/search?first=100&page={page}&nsfw=true")).await;
        assert_eq!(s, 200);
        assert_eq!(v["count"].as_u64().unwrap() as usize, total);
        assert_eq!(v["page"], page);
        let got = ids(&v);
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= 100);
        for id in got {
            assert!(seen.insert(id), "duplicate {id}");
        }
        page += 1;
    }
    assert_eq!(seen.len(), total);
    assert_eq!(page, total.div_ceil(100) + 1);
}

#[tokio::test]
async fn cursor_paging_walks_every_result_once_and_ends_with_null() {
    let mock = RostroMock::start().await;
    let c = client();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = c
            .get(format!("{}/search", mock.uri()))
            .bearer_auth("k")
            .query(&[
                ("first", "64"),
                ("sort", "star_count"),
                ("asc", "true"),
                ("nsfw", "true"),
            ]);
        if let Some(cur) = &cursor {
            req = req.query(&[("cursor", cur)]);
        }
        let (_, v) = status_json(req.send().await.unwrap()).await;
        seen.extend(
            v["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["starCount"].as_u64().unwrap()),
        );
        pages += 1;
        match v["cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => {
                assert!(v["cursor"].is_null());
                break;
            }
        }
    }
    let total = mock.catalog().characters().count();
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(64));
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "ascending star order across pages"
    );
    let (s, v) = get_json(&mock, "/search?cursor=not-a-cursor").await;
    assert_eq!((s, v["errorCode"].as_u64()), (400, Some(400)));
}

#[tokio::test]
async fn filters_apply() {
    let mock = RostroMock::start().await;
    let (_, v) = get_json(&mock, "/search?tags=Fantasy,Magic&first=500").await;
    for n in v["nodes"].as_array().unwrap() {
        let tags: Vec<&str> = n["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"Fantasy") && tags.contains(&"Magic"),
            "{tags:?}"
        );
    }
    let expected = mock
        .catalog()
        .characters()
        .filter(|e| e.tags.iter().any(|t| t == "Fantasy") && e.tags.iter().any(|t| t == "Magic"))
        .filter(|e| !e.nsfw)
        .count();
    assert_eq!(v["count"].as_u64().unwrap() as usize, expected);

    let (_, v) = get_json(&mock, "/search?exclude_tags=Horror&nsfw=false&first=500").await;
    for n in v["nodes"].as_array().unwrap() {
        assert_eq!(n["nsfw"], false);
        assert!(!n["topics"].as_array().unwrap().contains(&json!("Horror")));
    }

    let (_, v) = get_json(&mock, "/search?min_tokens=1000&max_tokens=2000&first=500").await;
    assert!(!ids(&v).is_empty());
    for n in v["nodes"].as_array().unwrap() {
        let t = n["nTokens"].as_u64().unwrap();
        assert!((1000..=2000).contains(&t));
    }

    let creator = mock
        .catalog()
        .characters()
        .find(|e| !e.nsfw)
        .unwrap()
        .creator
        .clone();
    let (_, v) = get_json(&mock, &format!("/search?username={creator}&first=500")).await;
    assert!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["creator"] == creator.as_str())
    );
    assert!(v["count"].as_u64().unwrap() >= 1);

    let name = mock
        .catalog()
        .characters()
        .filter(|e| !e.nsfw)
        .nth(3)
        .unwrap()
        .name
        .clone();
    let (_, v) = get_json(&mock, &format!("/search?search={}", name.to_lowercase())).await;
    assert!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == name.as_str())
    );

    let (_, v) = get_json(&mock, "/search?sort=n_tokens&asc=false&first=50").await;
    let tokens: Vec<u64> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nTokens"].as_u64().unwrap())
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] >= w[1]));

    let (s, v) = get_json(&mock, "/search?first=abc").await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["query", "first"]));
}

#[tokio::test]
async fn nsfw_is_excluded_unless_asked_for() {
    let mock = RostroMock::start().await;
    let anon: Value = client()
        .get(format!("{}/search?first=500&nsfw_only=false", mock.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        anon["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["nsfw"] == false)
    );
    // The reference's default is `nsfw=false` for every caller, keyed or not.
    let (_, authed) = get_json(&mock, "/search?first=500").await;
    assert_eq!(authed["count"], anon["count"]);
    assert!(
        authed["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["nsfw"] == false)
    );
    let (_, asked) = get_json(&mock, "/search?first=500&nsfw=true").await;
    assert!(asked["count"].as_u64() > authed["count"].as_u64());
    assert!(
        asked["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["nsfw"] == true)
    );
}

#[tokio::test]
async fn lorebooks_post_search_and_data_envelope() {
    let mock = RostroMock::builder()
        .search_envelope(SearchEnvelope::Data)
        .start()
        .await;
    let (s, v) = post_json(
        &mock,
        "/search?namespace=lorebooks",
        &json!({"first": 10, "nsfw": true}),
    )
    .await;
    assert_eq!(s, 200);
    let data = &v["data"];
    assert_eq!(data["nodes"].as_array().unwrap().len(), 10);
    assert!(
        data["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["projectSpace"] == "lorebooks")
    );
    assert_eq!(
        data["count"].as_u64().unwrap() as usize,
        mock.catalog().lorebooks().count()
    );
    // Per-request override back to the flat shape.
    let resp = client()
        .get(format!("{}/search?namespace=lorebooks", mock.uri()))
        .header("x-mock-envelope", "flat")
        .send()
        .await
        .unwrap();
    let (_, v) = status_json(resp).await;
    assert!(v["nodes"].is_array());
}

#[tokio::test]
async fn tags_and_minisearch() {
    let mock = RostroMock::start().await;
    let (s, v) = post_json(
        &mock,
        "/tags",
        &json!({"namespace": "lorebooks", "limit": 5}),
    )
    .await;
    assert_eq!(s, 200);
    let tags = v["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 5);
    assert!(
        tags.windows(2)
            .all(|w| w[0]["count"].as_u64() >= w[1]["count"].as_u64())
    );
    assert!(tags.iter().all(|t| t["namespace"] == "lorebooks"));

    let name = mock.catalog().characters().next().unwrap().name.clone();
    let first_word = name.split(' ').next().unwrap().to_string();
    let (s, v) = post_json(&mock, "/minisearch", &json!({"name": first_word})).await;
    assert_eq!(s, 200);
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| r["name"].as_str().unwrap().contains(&first_word))
    );
}

#[tokio::test]
async fn catalog_entries_are_served_with_their_definition_by_id_and_by_path() {
    let mock = RostroMock::start().await;
    let entry = mock.catalog().entries()[3].clone();
    let (s, by_id) = get_json(
        &mock,
        &format!("/api/public/characters/{}?full=true", entry.id),
    )
    .await;
    assert_eq!(s, 200, "{by_id}");
    assert_eq!(by_id["node"]["id"], entry.id);
    assert_eq!(by_id["node"]["fullPath"], entry.full_path.as_str());
    assert_eq!(by_id["node"]["definition"]["name"], entry.name.as_str());
    assert!(
        by_id["node"]["definition"]["personality"]
            .as_str()
            .is_some_and(|p| p.starts_with(&entry.tagline))
    );
    let (s, by_path) = get_json(
        &mock,
        &format!("/api/public/characters/{}", entry.full_path),
    )
    .await;
    assert_eq!(s, 200, "{by_path}");
    assert_eq!(by_path, by_id);
    let (s, missing) = get_json(&mock, "/api/public/characters/999999999").await;
    assert_eq!(s, 404);
    assert_eq!(missing["errorCode"], 404);
}

#[tokio::test]
async fn search_matches_words_in_any_order_case_and_number() {
    let mock = RostroMock::start().await;
    // The README's and --help's examples return results.
    let (_, v) = get_json(&mock, "/search?search=dragons&tags=Fantasy&first=5").await;
    assert!(!v["nodes"].as_array().unwrap().is_empty(), "{v}");
    for n in v["nodes"].as_array().unwrap() {
        assert!(n["topics"].as_array().unwrap().contains(&json!("Fantasy")));
        assert_eq!(n["nsfw"], false);
    }
    let (_, v) = get_json(&mock, "/search?search=wizard&first=3").await;
    assert_eq!(v["nodes"].as_array().unwrap().len(), 3, "{v}");

    // Case, word order and plural/singular do not matter.
    let e = mock
        .catalog()
        .characters()
        .find(|e| !e.nsfw && e.name.split(' ').count() == 2)
        .unwrap()
        .clone();
    let (first, last) = e.name.split_once(' ').unwrap();
    let query = format!("{} {}", last.to_uppercase(), first.to_lowercase());
    let v: Value = client()
        .get(format!("{}/search", mock.uri()))
        .query(&[("search", query.as_str()), ("first", "500")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == e.id),
        "{query} finds {}",
        e.name
    );
    let (_, singular) = get_json(&mock, "/search?search=dragon&first=500").await;
    let (_, plural) = get_json(&mock, "/search?search=Dragons&first=500").await;
    assert_eq!(singular["count"], plural["count"]);
    assert!(singular["count"].as_u64().unwrap() > 0);

    // Creator filter, combined with text.
    let (_, v) = get_json(
        &mock,
        &format!(
            "/search?search=dragon&username={}&first=500",
            e.creator.to_uppercase()
        ),
    )
    .await;
    assert!(
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["creator"] == e.creator.as_str())
    );
}

#[tokio::test]
async fn every_response_carries_rate_limit_headers() {
    let mock = RostroMock::start().await;
    let (mut remaining, mut limits) = (Vec::new(), Vec::new());
    for path in ["/search?first=1", "/v1/models", "/nope"] {
        let resp = client()
            .get(format!("{}{path}", mock.uri()))
            .bearer_auth("k")
            .send()
            .await
            .unwrap();
        let h = resp.headers();
        for name in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ] {
            let value: u64 = h
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            if name == "x-ratelimit-remaining" {
                remaining.push(value);
            }
            if name == "x-ratelimit-limit" {
                limits.push(value);
            }
            if name == "x-ratelimit-reset" {
                assert!(value > 1_700_000_000, "a Unix timestamp");
            }
        }
    }
    // Counting down within the limit.
    assert!(
        remaining.iter().zip(&limits).all(|(r, l)| r < l),
        "{remaining:?} of {limits:?}"
    );
}
