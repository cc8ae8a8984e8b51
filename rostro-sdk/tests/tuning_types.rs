//! The response types the tuning table adds for answers the reference leaves untyped decode
//! real data whatever it holds: the documented shape, an empty object, and members no one
//! documented (kept in `extra()`, and written back out unchanged).

use rostro_mock::{RostroMock, SearchEnvelope};
use rostro_sdk::Client;
use rostro_sdk::request::FilePart;
use rostro_sdk::types::{
    Account, ChatTree, LoreResults, Project, SearchNode, SearchPage, StoredMessage,
    StoredMessageRole, Users,
};
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

#[test]
fn numbers_that_arrive_as_text_decode_as_numbers_and_text_fields_take_numbers() {
    let a: Account = serde_json::from_value(json!({"credits": "500", "id": 77})).unwrap();
    assert_eq!(a.credits, Some(500));
    assert_eq!(a.id.as_deref(), Some("77"));
    let r: LoreResults =
        serde_json::from_value(json!({"results": [{"text": "t", "score": "0.25"}]})).unwrap();
    assert_eq!(r.items()[0].score, Some(0.25));
    // Text that is no number is a decode error naming what came, never a silent zero.
    let e = serde_json::from_value::<Account>(json!({"credits": "lots"})).unwrap_err();
    assert!(e.to_string().contains("\"lots\""), "{e}");
}

#[test]
fn unknown_enum_values_are_kept() {
    let m: StoredMessage = serde_json::from_value(json!({"role": "narrator"})).unwrap();
    assert_eq!(m.role, Some(StoredMessageRole::Unknown("narrator".into())));
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({"role": "narrator"})
    );
}

#[test]
fn a_wrapper_gives_its_items_wherever_the_answer_put_them() {
    let flat = json!({"nodes": [{"id": 1}], "cursor": "c"});
    let wrapped = json!({"data": {"nodes": [{"id": 1}, {"id": 2}], "cursor": "d"}});
    let page: SearchPage = serde_json::from_value(flat.clone()).unwrap();
    assert_eq!(page.items().len(), 1);
    assert_eq!(SearchPage::raw_items(&flat), Some(&[json!({"id": 1})][..]));
    let page: SearchPage = serde_json::from_value(wrapped.clone()).unwrap();
    let ids: Vec<i64> = page.items().iter().map(|n| n.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(SearchPage::raw_items(&wrapped).map(<[Value]>::len), Some(2));
    let none: SearchPage = serde_json::from_value(json!({})).unwrap();
    assert!(none.items().is_empty() && SearchPage::raw_items(&json!({})).is_none());

    let tree: ChatTree = serde_json::from_value(
        json!({"chat": {"id": 4, "messages": [{"role": "user", "content": "hi"}]}}),
    )
    .unwrap();
    assert_eq!(tree.items()[0].content.as_deref(), Some("hi"));
    let users: Users = serde_json::from_value(json!({"users": [{"username": "a"}]})).unwrap();
    assert_eq!(users.items()[0].username.as_deref(), Some("a"));
}

fn client(mock: &RostroMock) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(mock.uri())
        .build()
        .unwrap()
}

/// The mock's answers (over real HTTP) decode into the types the tuning table gives them.
#[tokio::test]
async fn the_mock_answers_decode_into_the_tuned_types() {
    let mock = RostroMock::start().await;
    let c = client(&mock);
    let project = c
        .projects()
        .get_public_by_id("characters", 1001)
        .send()
        .await
        .unwrap();
    let node: &Project = project.node.as_ref().unwrap();
    assert_eq!(node.id, Some(1001));
    assert!(
        node.full_path
            .as_deref()
            .is_some_and(|p| p.ends_with("-1001"))
    );
    let path = node.full_path.clone().unwrap();
    let (creator, slug) = path.split_once('/').unwrap();
    let by_path = c
        .projects()
        .get_public("characters", creator, slug)
        .send()
        .await
        .unwrap();
    assert_eq!(by_path.node.unwrap().id, Some(1001));

    let made = c
        .lorebooks()
        .create()
        .body(json!({"name": "Book"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.node.unwrap().name.as_deref(), Some("Book"));

    let persona = c
        .personas()
        .create()
        .body(json!({"name": "Sam"}))
        .send()
        .await
        .unwrap();
    let listed = c.personas().list().send().await.unwrap();
    assert!(
        listed
            .items()
            .iter()
            .any(|p| p.id == persona.id && p.name.as_deref() == Some("Sam"))
    );

    let chat = c.chats().create().body(json!({})).send().await.unwrap();
    let chats = c.chats().list().send().await.unwrap();
    assert!(chats.items().iter().any(|x| x.id == chat.id));
    let tree = c.chats().get(chat.id.unwrap()).send().await.unwrap();
    assert_eq!(tree.chat.unwrap().id, chat.id);

    let item = c
        .lore()
        .add_item()
        .file("file", FilePart::from_bytes("notes.txt", &b"lore"[..]))
        .send()
        .await
        .unwrap();
    assert_eq!(item.status.as_deref(), Some("indexed"));
    let items = c.lore().list_items().send().await.unwrap();
    assert!(items.items().iter().any(|i| i.uuid == item.uuid));

    let tags = c.tags().list().send().await.unwrap();
    assert!(
        tags.items()
            .iter()
            .all(|t| t.name.is_some() && t.count.is_some())
    );
    assert!(!tags.items().is_empty());

    // Answers the mock leaves open (`{}`) decode too.
    c.ratings().list(1001).send().await.unwrap();
    c.account().get().send().await.unwrap();
    c.tokens().list().send().await.unwrap();
    c.follows().following("You").send().await.unwrap();
    c.lore()
        .query()
        .body(json!({"query": "storms"}))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn search_pages_decode_flat_and_under_data() {
    for envelope in [SearchEnvelope::Flat, SearchEnvelope::Data] {
        let mock = RostroMock::builder()
            .search_envelope(envelope)
            .start()
            .await;
        let page = client(&mock).search().list().first(3).send().await.unwrap();
        assert_eq!(page.items().len(), 3, "{envelope:?}");
    }
}

/// `[query_types]`: numbers and bools go on the wire as such, lists comma-joined.
#[tokio::test]
async fn typed_query_setters_put_numbers_bools_and_joined_lists_on_the_wire() {
    let mock = RostroMock::start().await;
    client(&mock)
        .search()
        .list()
        .tags(["OC", "Dragon"])
        .exclude_tags(vec![String::from("NSFL")])
        .min_tokens(500)
        .only_mine(false)
        .count(true)
        .min_ai_rating(3.5)
        .send()
        .await
        .unwrap();
    let sent = mock.requests_to("GET", "/search");
    let query = sent[0].query.clone().unwrap_or_default();
    for pair in [
        "tags=OC%2CDragon",
        "exclude_tags=NSFL",
        "min_tokens=500",
        "only_mine=false",
        "count=true",
        "min_ai_rating=3.5",
    ] {
        assert!(query.split('&').any(|p| p == pair), "{pair} in {query}");
    }
}
