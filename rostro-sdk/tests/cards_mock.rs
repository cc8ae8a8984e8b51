//! `download_card` / `download_book` against the mock over real HTTP: the mapping table field
//! by field, linked lorebooks, the avatar's bytes, failures, and the round trip
//! export -> import -> export for every container and spec.

use std::time::Duration;

use rostro_mock::{Fault, FaultRule, RostroMock};
use rostro_sdk::cards::{CardFormat, CardSpec, CardV3, card_from_project, import_of, read_card};
use rostro_sdk::{Client, Error};
use serde_json::{Map, Value, json};

fn client(mock: &RostroMock) -> Client {
    Client::builder()
        .base_url(mock.uri())
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}

/// A character of the catalog that links two lorebooks (every id divisible by 3 does).
fn two_book_character(mock: &RostroMock) -> rostro_mock::CatalogEntry {
    mock.catalog()
        .characters()
        .find(|e| mock.catalog().linked_lorebooks(e).len() == 2)
        .cloned()
        .expect("a character with two linked lorebooks")
}

#[tokio::test]
async fn download_card_maps_the_definition_field_by_field() {
    let mock = RostroMock::start().await;
    let e = two_book_character(&mock);
    let def = mock.catalog().full_definition(&e);
    let got = client(&mock)
        .characters()
        .download_card(&e.id.to_string())
        .await
        .unwrap();
    let d = &got.card.data;
    assert_eq!(got.card.spec, "chara_card_v3");
    assert_eq!(d.name, def["name"]);
    assert_eq!(d.description, def["description"]);
    assert_eq!(d.personality, def["personality"]);
    assert_eq!(d.scenario, def["scenario"]);
    assert_eq!(d.first_mes, def["first_message"]);
    assert_eq!(json!(d.alternate_greetings), def["alternate_greetings"]);
    assert_eq!(d.mes_example, def["example_dialogs"]);
    assert_eq!(d.system_prompt, def["system_prompt"]);
    assert_eq!(
        d.post_history_instructions,
        def["post_history_instructions"]
    );
    assert_eq!(d.creator_notes, def["creator_notes"]);
    assert_eq!(d.character_version, def["character_version"]);
    assert_eq!(d.tags, e.tags);
    assert_eq!(d.creator, e.creator);
    assert_eq!(d.creation_date, Some(e.created_at as i64));
    assert_eq!(d.modification_date, Some(e.last_activity_at as i64));
    assert_eq!(
        d.source,
        Some(vec![format!("rostro:characters/{}", e.full_path)])
    );
    // No slot in the card: kept under extensions.rostro.
    let r = &d.extensions["rostro"];
    assert_eq!(r["id"], e.id);
    assert_eq!(r["fullPath"], e.full_path);
    assert_eq!(r["tagline"], e.tagline);
    assert_eq!(r["nsfw"], e.nsfw);
    assert_eq!(
        r["definition"]["tavern_personality"],
        def["tavern_personality"]
    );

    // Both linked lorebooks, in order, entries mapped (`key` -> `keys`).
    let linked = mock.catalog().linked_lorebooks(&e);
    assert_eq!(got.lorebooks.len(), 2);
    let book = d.character_book.as_ref().unwrap();
    let mut expected_entries = Vec::new();
    for id in &linked {
        let lb = mock
            .catalog()
            .entries()
            .iter()
            .find(|x| x.id == *id)
            .unwrap();
        let lb_def = mock.catalog().full_definition(lb);
        expected_entries.extend(lb_def["entries"].as_array().unwrap().clone());
    }
    assert_eq!(book.entries.len(), expected_entries.len());
    for (got_e, want) in book.entries.iter().zip(&expected_entries) {
        assert_eq!(json!(got_e.keys), want["key"]);
        assert_eq!(got_e.content, want["content"]);
        assert_eq!(got_e.enabled, want["enabled"]);
        assert_eq!(got_e.insertion_order, want["insertion_order"]);
        assert_eq!(json!(got_e.case_sensitive), want["case_sensitive"]);
        assert_eq!(json!(got_e.secondary_keys), want["secondary_keys"]);
        assert_eq!(json!(got_e.position), want["position"]);
        assert_eq!(json!(got_e.constant), want["constant"]);
    }
    assert_eq!(
        r["linked_lorebooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        linked
    );

    // The avatar is the mock's bytes, fetched over HTTP.
    let avatar = reqwest::get(format!("{}/media/avatar-{}.png", mock.uri(), e.id))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.avatar.as_deref(), Some(&avatar[..]));
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    assert!(!got.uses_placeholder(CardFormat::Png));
    let routes: Vec<String> = mock
        .received_requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(routes.contains(&format!("GET /api/public/characters/{}", e.id)));
    for id in linked {
        assert!(routes.contains(&format!("GET /api/public/lorebooks/{id}")));
    }
}

#[tokio::test]
async fn download_by_path_equals_download_by_id() {
    let mock = RostroMock::start().await;
    let e = mock.catalog().characters().nth(4).unwrap().clone();
    let c = client(&mock);
    let by_id = c
        .characters()
        .download_card(&e.id.to_string())
        .await
        .unwrap();
    let by_path = c.characters().download_card(&e.full_path).await.unwrap();
    assert_eq!(by_id.card, by_path.card);
    let prefixed = c
        .characters()
        .download_card(&format!("characters/{}", e.full_path))
        .await
        .unwrap();
    assert_eq!(prefixed.card, by_id.card);
    let err = c.characters().download_card("no-slash").await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
}

#[tokio::test]
async fn unknown_character_is_a_404() {
    let mock = RostroMock::start().await;
    let err = client(&mock)
        .characters()
        .download_card("999999")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_private_linked_lorebook_is_left_out_and_named() {
    let mock = RostroMock::start().await;
    let e = two_book_character(&mock);
    let linked = mock.catalog().linked_lorebooks(&e);
    mock.inject_fault(
        FaultRule::new(Fault::Status(404))
            .on("GET", &format!("/api/public/lorebooks/{}", linked[1])),
    );
    let got = client(&mock)
        .characters()
        .download_card(&e.id.to_string())
        .await
        .unwrap();
    assert_eq!(got.lorebooks.len(), 1);
    assert_eq!(got.notes.len(), 1);
    assert!(
        got.notes[0].contains(&linked[1].to_string()),
        "{:?}",
        got.notes
    );
}

#[tokio::test]
async fn a_failing_avatar_is_an_error_not_a_placeholder() {
    let mock = RostroMock::start().await;
    let e = mock.catalog().characters().next().unwrap().clone();
    mock.inject_fault(
        FaultRule::new(Fault::Status(404)).on("GET", &format!("/media/avatar-{}.png", e.id)),
    );
    let err = client(&mock)
        .characters()
        .download_card(&e.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");
}

#[tokio::test]
async fn download_book_maps_entries() {
    let mock = RostroMock::start().await;
    let lb = mock.catalog().lorebooks().next().unwrap().clone();
    let def = mock.catalog().full_definition(&lb);
    let got = client(&mock)
        .lorebooks()
        .download_book(&lb.full_path)
        .await
        .unwrap();
    assert_eq!(got.book.name.as_deref(), def["name"].as_str());
    assert_eq!(got.book.scan_depth, def["scan_depth"].as_i64());
    let want = def["entries"].as_array().unwrap();
    assert_eq!(got.book.entries.len(), want.len());
    assert_eq!(json!(got.book.entries[0].keys), want[0]["key"]);
    assert_eq!(
        got.book.entries[0].name.as_deref(),
        want[0]["name"].as_str()
    );
}

/// What the API would serve after creating a character from `body` (the create fields are
/// the definition's names): the node-level fields out of the definition, server ids in.
fn project_from_create_body(body: &Value, id: u64, full_path: &str, creator: &str) -> Value {
    let mut def = body.as_object().unwrap().clone();
    let tagline = def.remove("tagline");
    let nsfw = def.remove("nsfw");
    let topics = def.remove("topics");
    def.remove("avatar");
    def.remove("related_lorebooks");
    json!({ "node": {
        "id": id, "fullPath": full_path, "creator": creator, "name": def["name"],
        "tagline": tagline, "nsfw": nsfw, "topics": topics, "definition": def,
    }})
}

/// What a lorebook created from `body` would serve.
fn lorebook_from_create_body(body: &Value, id: u64) -> Value {
    json!({ "node": { "id": id, "fullPath": format!("me/book-{id}"), "definition": body } })
}

/// The card without what the server owns and a new upload changes: ids and paths, dates,
/// `source`, the linked lorebooks' ids, and the per-entry origin of merged books.
fn normalize(card: &CardV3) -> CardV3 {
    let mut c = card.clone();
    c.data.source = None;
    c.data.creation_date = None;
    c.data.modification_date = None;
    c.data.assets = None;
    if let Some(Value::Object(r)) = c.data.extensions.get_mut("rostro") {
        for k in ["id", "fullPath", "linked_lorebooks", "nsfl"] {
            r.remove(k);
        }
    }
    if let Some(book) = &mut c.data.character_book {
        book.extensions.remove("rostro");
        for e in &mut book.entries {
            e.extensions.remove("rostro");
        }
    }
    c
}

#[tokio::test]
async fn export_import_export_is_the_same_card_for_every_format_and_spec() {
    let mock = RostroMock::start().await;
    let c = client(&mock);
    for e in [
        mock.catalog().characters().next().unwrap().clone(),
        two_book_character(&mock),
    ] {
        let got = c
            .characters()
            .download_card(&e.id.to_string())
            .await
            .unwrap();
        for (format, spec) in [
            (CardFormat::Png, CardSpec::V3),
            (CardFormat::Png, CardSpec::V2),
            (CardFormat::Json, CardSpec::V3),
            (CardFormat::Json, CardSpec::V2),
            (CardFormat::CharX, CardSpec::V3),
        ] {
            let file = got.encode(format, spec).unwrap();
            let read = read_card(&file).unwrap();
            let image = read.image.clone();
            let imported = read.card.into_v3();
            let plan = import_of(&imported);
            assert_eq!(
                plan.lorebook.is_some(),
                got.card.data.character_book.is_some()
            );
            // Nothing of the lorebook is lost: every entry goes to the new lorebook.
            let book_body = plan.lorebook.clone().unwrap();
            let project = project_from_create_body(&plan.character, 7, "me/new", &e.creator);
            let lorebook = lorebook_from_create_body(&book_body, 8);
            let again = card_from_project(&project, &[lorebook]);
            assert_eq!(
                normalize(&again),
                normalize(&got.card),
                "{format:?} {spec:?} of {}",
                e.id
            );
            // The avatar travels with the card (PNG: the card image; CharX: the icon).
            if format == CardFormat::Json {
                assert!(image.is_none());
            } else {
                let (_, _, px) = decode(image.as_deref().unwrap());
                let (_, _, want) = decode(got.avatar.as_deref().unwrap());
                assert_eq!(px, want, "{format:?} avatar pixels");
            }
        }
    }
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let f = reader.next_frame(&mut buf).unwrap();
    buf.truncate(f.buffer_size());
    (f.width, f.height, buf)
}

#[test]
fn import_keeps_v3_fields_the_api_has_no_slot_for() {
    let mut card = CardV3::new(Default::default());
    card.data.name = "Sera".into();
    card.data.creator = "someone-else".into();
    card.data.nickname = Some("S".into());
    card.data.group_only_greetings = vec!["hi all".into()];
    let mut ml = Map::new();
    ml.insert("fr".into(), "bonjour".into());
    card.data.creator_notes_multilingual = Some(ml);
    card.data
        .extensions
        .insert("depth_prompt".into(), json!({"depth": 4}));
    let plan = import_of(&card);
    assert!(plan.lorebook.is_none());
    let ext = &plan.character["extensions"];
    assert_eq!(ext["depth_prompt"]["depth"], 4);
    assert_eq!(ext["rostro"]["nickname"], "S");
    assert_eq!(ext["rostro"]["original_creator"], "someone-else");
    let back = card_from_project(
        &project_from_create_body(&plan.character, 1, "me/sera", "me"),
        &[],
    );
    assert_eq!(back.data.nickname.as_deref(), Some("S"));
    assert_eq!(back.data.group_only_greetings, ["hi all"]);
    assert_eq!(back.data.creator, "someone-else");
    assert_eq!(
        back.data.creator_notes_multilingual,
        card.data.creator_notes_multilingual
    );
    assert_eq!(back.data.extensions["depth_prompt"], json!({"depth": 4}));
}

/// The round trip through the server itself: the import plan is created on the mock (the
/// lorebook, then the character linked to it), and the new character's card equals the
/// original one but for what the server owns.
#[tokio::test]
async fn a_card_created_on_the_mock_downloads_as_the_same_card() {
    let mock = RostroMock::start().await;
    let c = client(&mock);
    let e = two_book_character(&mock);
    let got = c
        .characters()
        .download_card(&e.id.to_string())
        .await
        .unwrap();
    let plan = import_of(&got.card);
    let book = c
        .lorebooks()
        .create()
        .body(plan.lorebook.clone().unwrap())
        .send()
        .await
        .unwrap();
    let book_id = book.node.as_ref().and_then(|n| n.id).unwrap();
    let mut body = plan.character.clone();
    body["related_lorebooks"] = json!([book_id]);
    // The contract's answer is `APIResponse`; the mock adds the new `node`, read untyped.
    let req = c.characters().create().body(body).into_request().unwrap();
    let created = c.execute::<Value>(req).await.unwrap().into_inner();
    let id = created["node"]["id"].as_u64().unwrap();
    let again = c.characters().download_card(&id.to_string()).await.unwrap();
    assert_eq!(normalize(&again.card), normalize(&got.card));
    assert_eq!(again.lorebooks.len(), 1, "one merged lorebook went up");
}
