//! The response types the tuning table adds for answers the reference leaves untyped decode
//! real data whatever it holds: the documented shape, an empty object, and members no one
//! documented (kept in `extra()`, and written back out unchanged).

use rostro_sdk::types::{SearchNode, SearchPage};
use serde_json::{Value, json};

#[test]
fn a_search_page_decodes_the_documented_shape_an_empty_object_and_unknown_members() {
    let documented = json!({
        "count": 2, "page": 1, "pages": 1, "cursor": null,
        "nodes": [{"id": 7, "name": "Sera", "fullPath": "me/sera", "nsfw": false,
                    "topics": ["sea"], "nTokens": 812, "starCount": 3}]
    });
    let page: SearchPage = serde_json::from_value(documented).unwrap();
    assert_eq!(page.count, Some(2));
    let node = &page.nodes.as_ref().unwrap()[0];
    assert_eq!(node.full_path.as_deref(), Some("me/sera"));
    assert!(node.extra().is_empty());

    let empty: SearchPage = serde_json::from_value(json!({})).unwrap();
    assert!(empty.nodes.is_none() && empty.extra().is_empty());

    let with_extra = json!({
        "nodes": [{"id": 9, "name": "Ash", "ratingCount": 41, "badges": ["new"]}],
        "facets": {"tags": {"sea": 3}}
    });
    let page: SearchPage = serde_json::from_value(with_extra.clone()).unwrap();
    assert_eq!(page.extra()["facets"], json!({"tags": {"sea": 3}}));
    let node = &page.nodes.as_ref().unwrap()[0];
    assert_eq!(node.extra()["ratingCount"], 41);
    assert_eq!(node.extra()["badges"], json!(["new"]));
    // Nothing is lost on the way back out.
    let back: Value = serde_json::to_value(&page).unwrap();
    assert_eq!(back, with_extra);
}

#[test]
fn a_search_node_built_in_code_has_no_extra_members() {
    let n = SearchNode::new(5);
    assert!(n.extra().is_empty());
    assert_eq!(serde_json::to_value(&n).unwrap(), json!({"id": 5}));
}
