//! `rostro characters download`, `characters create --from CARD` and `lore download`, run as a
//! spawned process against the mock (a test-owned one through `--base-url`, or `--mock`).

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::*;
use rostro_mock::RostroMock;
use rostro_sdk::Client;
use rostro_sdk::cards::{Card, CardV3, import_of, read_card};
use serde_json::{Value, json};

const KEY: &str = "test-key-0000000";

fn at(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

fn sdk_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../rostro-sdk/tests/fixtures/cards")
        .join(name)
}

async fn sdk_card(mock: &RostroMock, id: &str) -> rostro_sdk::cards::DownloadedCard {
    Client::builder()
        .base_url(mock.uri())
        .build()
        .unwrap()
        .characters()
        .download_card(id)
        .await
        .unwrap()
}

fn read_v3(path: &Path) -> (Card, CardV3) {
    let read = read_card(&std::fs::read(path).unwrap()).unwrap();
    let v3 = read.card.clone().into_v3();
    (read.card, v3)
}

fn public_requests(mock: &RostroMock) -> usize {
    mock.received_requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/public/"))
        .count()
}

#[tokio::test]
async fn download_writes_every_format_and_spec_as_the_sdk_reads_it() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let e = mock.catalog().characters().nth(2).unwrap().clone();
    let want = sdk_card(&mock, &e.id.to_string()).await;
    for (format, spec, version) in [
        ("png", "v3", 3),
        ("png", "v2", 2),
        ("json", "v3", 3),
        ("json", "v2", 2),
        ("charx", "v3", 3),
    ] {
        let out = format!("card-{spec}.{format}");
        let o = run(at(
            &env,
            &mock.uri(),
            &[
                "--json",
                "characters",
                "download",
                &e.id.to_string(),
                "--format",
                format,
                "--spec",
                spec,
                "--out",
                &out,
            ],
        ))
        .await;
        assert_code(&o, 0);
        let report = json(&o);
        assert_eq!(report["path"], out);
        assert_eq!(report["fullPath"], e.full_path);
        assert_eq!(report["placeholder_image"], false);
        let (card, mut v3) = read_v3(&env.path().join(&out));
        assert_eq!(card.version(), version, "{format} {spec}");
        let mut expected = want.card.clone();
        if format == "charx" {
            assert_eq!(
                v3.data.assets.take().unwrap()[0].uri,
                "embeded://assets/icon/image/main.png"
            );
            expected.data.assets = None;
        }
        assert_eq!(v3, expected, "{format} {spec}");
        if format == "json" {
            // Bare card JSON, as the specs define it.
            let raw: Value =
                serde_json::from_slice(&std::fs::read(env.path().join(&out)).unwrap()).unwrap();
            assert_eq!(
                raw["spec"],
                if version == 3 {
                    "chara_card_v3"
                } else {
                    "chara_card_v2"
                }
            );
        }
    }
}

#[tokio::test]
async fn download_refuses_to_overwrite_without_force() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let target = env.path().join("card.png");
    std::fs::write(&target, b"my precious file").unwrap();
    let o = run(at(
        &env,
        &mock.uri(),
        &["characters", "download", "1001", "--out", "card.png"],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&target).unwrap(), b"my precious file");
    assert_eq!(public_requests(&mock), 0, "refused before any request");
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "characters",
            "download",
            "1001",
            "--out",
            "card.png",
            "--force",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(read_v3(&target).1.data.extensions["rostro"]["id"], 1001);
    // The default name (the slug) is refused the same way once it exists.
    let slug = mock
        .catalog()
        .characters()
        .next()
        .unwrap()
        .full_path
        .clone();
    let file = format!("{}.json", slug.rsplit('/').next().unwrap());
    for expected in [0, 2] {
        let o = run(at(
            &env,
            &mock.uri(),
            &["characters", "download", "1001", "--format", "json"],
        ))
        .await;
        assert_code(&o, expected);
    }
    assert!(env.path().join(file).is_file());
}

#[tokio::test]
async fn download_to_stdout_and_into_a_directory() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let e = mock.catalog().characters().next().unwrap().clone();
    let o = run(at(
        &env,
        &mock.uri(),
        &["characters", "download", &e.full_path, "--out", "-"],
    ))
    .await;
    assert_code(&o, 0);
    let read = read_card(&o.stdout).unwrap();
    assert_eq!(read.card.into_v3().data.name, e.name);
    std::fs::create_dir(env.path().join("cards")).unwrap();
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "characters",
            "download",
            &e.full_path,
            "--format",
            "charx",
            "--out",
            "cards",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let slug = e.full_path.rsplit('/').next().unwrap();
    let (_, v3) = read_v3(&env.path().join("cards").join(format!("{slug}.charx")));
    assert_eq!(v3.data.name, e.name);
    assert!(stderr(&o).contains("lorebook entries"), "{}", stderr(&o));
}

#[tokio::test]
async fn charx_v2_and_unknown_characters_fail_clearly() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "characters",
            "download",
            "1001",
            "--format",
            "charx",
            "--spec",
            "v2",
        ],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("CharX is a V3 container"));
    let o = run(at(&env, &mock.uri(), &["characters", "download", "987654"])).await;
    assert_code(&o, 4);
    assert!(std::fs::read_dir(env.path()).unwrap().all(|f| {
        let n = f.unwrap().file_name();
        !n.to_string_lossy().ends_with(".png")
    }));
}

/// The issue's pipeline, as a user runs it: `search dragon` then `characters download` of its
/// first result, both under `--mock`, writes a card that reads back with a lorebook.
#[tokio::test]
async fn search_then_download_under_mock_writes_an_importable_card() {
    let env = Env::new();
    let o = run(env.cmd(["--mock", "search", "dragon", "--limit", "1", "--json"])).await;
    assert_code(&o, 0);
    let hits = ndjson(&o);
    assert_eq!(hits.len(), 1);
    let path = hits[0]["fullPath"].as_str().unwrap().to_owned();
    let o = run(env.cmd([
        "--mock",
        "characters",
        "download",
        &path,
        "--out",
        "card.png",
    ]))
    .await;
    assert_code(&o, 0);
    let (card, v3) = read_v3(&env.path().join("card.png"));
    assert_eq!(card.version(), 3);
    assert_eq!(v3.data.name, hits[0]["name"]);
    assert!(!v3.data.first_mes.is_empty());
    assert!(!v3.data.character_book.unwrap().entries.is_empty());
    // And it imports: the dry run maps it back to the API's fields.
    let o = run(env.cmd([
        "--mock",
        "--json",
        "characters",
        "create",
        "--from",
        "card.png",
        "--dry-run",
    ]))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["character"]["name"], hits[0]["name"]);
}

#[tokio::test]
async fn create_dry_run_shows_what_would_be_sent_and_sends_nothing() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let e = mock.catalog().characters().nth(5).unwrap().clone();
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "characters",
            "download",
            &e.id.to_string(),
            "--out",
            "c.png",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let file = std::fs::read(env.path().join("c.png")).unwrap();
    mock.clear_received();
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "--json",
            "characters",
            "create",
            "--from",
            "c.png",
            "--dry-run",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let shown = json(&o);
    assert!(
        mock.received_requests().is_empty(),
        "a dry run sends nothing"
    );
    let plan = import_of(&read_card(&file).unwrap().card.into_v3());
    let mut character = shown["character"].clone();
    let avatar = character.as_object_mut().unwrap().remove("avatar").unwrap();
    assert_eq!(character, plan.character);
    assert_eq!(shown["lorebook"], plan.lorebook.unwrap());
    let b64 = avatar
        .as_str()
        .unwrap()
        .strip_prefix("data:image/png;base64,")
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        file,
        "the avatar sent is the card image"
    );
    // Flags win over the card.
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "--json",
            "characters",
            "create",
            "--from",
            "c.png",
            "--dry-run",
            "--name",
            "Renamed",
            "-F",
            "nsfw=true",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["character"]["name"], "Renamed");
    assert_eq!(json(&o)["character"]["nsfw"], true);
}

#[tokio::test]
async fn create_from_card_creates_the_lorebook_then_the_character_and_links_them() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let mock = RostroMock::start().await;
    // Fixed ids and paths, so the exact requests can be asserted.
    Mock::given(method("POST"))
        .and(path("/api/core/lorebooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 777, "name": "x"})))
        .with_priority(1)
        .mount(mock.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/api/core/characters"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"node": {"id": 4242, "fullPath": "me/seraphina"}})),
        )
        .with_priority(1)
        .mount(mock.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/api/core/characters/link/me/seraphina/lorebook/777"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let env = Env::new();
    let charx = sdk_fixture("v3.charx");
    let o = run(at(
        &env,
        &mock.uri(),
        &["characters", "create", "--from", charx.to_str().unwrap()],
    ))
    .await;
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("Created character Seraphina V3")
            && stderr(&o).contains("id 4242, me/seraphina"),
        "{}",
        stderr(&o)
    );
    let got: Vec<(String, String, Option<Value>)> = mock
        .received_requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| {
            let body = r.body_json();
            (r.method, r.path, body)
        })
        .collect();
    let paths: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/core/lorebooks",
            "/api/core/characters",
            "/api/core/characters/link/me/seraphina/lorebook/777"
        ]
    );
    let card = read_card(&std::fs::read(&charx).unwrap()).unwrap();
    let icon = card.image.clone().unwrap();
    let plan = import_of(&card.card.into_v3());
    assert_eq!(got[0].2.as_ref().unwrap(), plan.lorebook.as_ref().unwrap());
    let sent = got[1].2.as_ref().unwrap();
    assert_eq!(sent["related_lorebooks"], json!([777]));
    assert_eq!(sent["name"], "Seraphina V3");
    assert_eq!(sent["extensions"]["rostro"]["nickname"], "Sera");
    let b64 = sent["avatar"]
        .as_str()
        .unwrap()
        .strip_prefix("data:image/png;base64,")
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        icon
    );
}

#[tokio::test]
async fn files_that_are_not_cards_exit_2_and_say_which() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    std::fs::write(
        env.path().join("broken.json"),
        "{\"spec\": \"chara_card_v2\", \"data\": ",
    )
    .unwrap();
    let cases = [
        (
            sdk_fixture("no_card.png"),
            "has no `chara` or `ccv3` text chunk",
        ),
        (
            sdk_fixture("bad_base64.png"),
            "`chara` chunk is not valid base64",
        ),
        (sdk_fixture("bad_json.png"), "invalid card JSON"),
        (
            sdk_fixture("no_card_json.charx"),
            "the zip has no card.json",
        ),
        (
            sdk_fixture("missing_asset.charx"),
            "is missing from the zip",
        ),
        (env.path().join("broken.json"), "invalid JSON"),
    ];
    for (file, why) in cases {
        let o = run(at(
            &env,
            &mock.uri(),
            &["characters", "create", "--from", file.to_str().unwrap()],
        ))
        .await;
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains(why),
            "{}: {}",
            file.display(),
            stderr(&o)
        );
    }
    assert!(
        mock.received_requests().is_empty(),
        "nothing sent for a bad file"
    );
}

#[tokio::test]
async fn v1_and_v2_cards_import_and_v3_is_preferred_in_a_png() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    for (file, name, version) in [
        ("v1_tavern.json", "Old Tom", 1),
        ("v2_ztxt.png", "Seraphina", 2),
        ("v3_itxt_both.png", "Seraphina V3", 3),
    ] {
        let o = run(at(
            &env,
            &mock.uri(),
            &[
                "--json",
                "characters",
                "create",
                "--from",
                sdk_fixture(file).to_str().unwrap(),
                "--dry-run",
            ],
        ))
        .await;
        assert_code(&o, 0);
        let v = json(&o);
        assert_eq!(v["card_version"], version, "{file}");
        assert_eq!(v["character"]["name"], name, "{file}");
    }
    // A plain JSON body is still a body, not a card.
    std::fs::write(
        env.path().join("body.json"),
        r#"{"name": "Plain", "tagline": "t"}"#,
    )
    .unwrap();
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "--json",
            "characters",
            "create",
            "--from",
            "body.json",
            "--dry-run",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(
        json(&o)["character"],
        json!({"name": "Plain", "tagline": "t"})
    );
}

#[tokio::test]
async fn lore_download_writes_world_info_and_character_books() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let lb = mock.catalog().lorebooks().nth(1).unwrap().clone();
    let def = mock.catalog().full_definition(&lb);
    let entries = def["entries"].as_array().unwrap();
    let o = run(at(
        &env,
        &mock.uri(),
        &["lore", "download", &lb.id.to_string(), "--out", "wi.json"],
    ))
    .await;
    assert_code(&o, 0);
    let wi: Value =
        serde_json::from_slice(&std::fs::read(env.path().join("wi.json")).unwrap()).unwrap();
    let wi_entries = wi["entries"].as_object().unwrap();
    assert_eq!(wi_entries.len(), entries.len());
    for (i, want) in entries.iter().enumerate() {
        let got = &wi_entries[&i.to_string()];
        assert_eq!(got["uid"], i);
        assert_eq!(got["key"], want["key"]);
        assert_eq!(got["content"], want["content"]);
        assert_eq!(got["order"], want["insertion_order"]);
        assert_eq!(got["disable"], !want["enabled"].as_bool().unwrap());
    }
    assert_eq!(
        wi["originalData"]["entries"].as_array().unwrap().len(),
        entries.len()
    );
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "lore",
            "download",
            &lb.full_path,
            "--format",
            "book",
            "--out",
            "book.json",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let book: rostro_sdk::cards::CharacterBook =
        serde_json::from_slice(&std::fs::read(env.path().join("book.json")).unwrap()).unwrap();
    assert_eq!(book.name.as_deref(), def["name"].as_str());
    assert_eq!(json!(book.entries[0].keys), entries[0]["key"]);
    let o = run(at(
        &env,
        &mock.uri(),
        &[
            "lore",
            "download",
            &lb.full_path,
            "--format",
            "book",
            "--out",
            "book.json",
        ],
    ))
    .await;
    assert_code(&o, 2);
}

/// The sandbox keeps what `create --from` made, so the card comes back out of `download`
/// with every field the API has a slot for (and the rest under `extensions`).
#[tokio::test]
async fn a_card_imported_under_mock_downloads_again_with_its_fields() {
    let env = Env::new();
    let charx = sdk_fixture("v3.charx");
    let o = run(env.cmd([
        "--mock",
        "--json",
        "characters",
        "create",
        "--from",
        charx.to_str().unwrap(),
    ]))
    .await;
    assert_code(&o, 0);
    let created = json(&o);
    assert_eq!(created["lorebook_linked"], true, "{created}");
    let id = created["id"]
        .as_i64()
        .expect("the sandbox returns the new id");
    let path = created["fullPath"].as_str().unwrap().to_owned();

    // By id and by path, in a later invocation.
    for who in [id.to_string(), path.clone()] {
        let out = format!("back-{}.json", who.replace('/', "_"));
        let o = run(env.cmd([
            "--mock",
            "characters",
            "download",
            &who,
            "--format",
            "json",
            "--out",
            &out,
        ]))
        .await;
        assert_code(&o, 0);
        let (_, back) = read_v3(&env.path().join(&out));
        let (_, orig) = read_v3(&charx);
        let (b, w) = (&back.data, &orig.data);
        assert_eq!(b.name, w.name);
        assert_eq!(b.description, w.description);
        assert_eq!(b.personality, w.personality);
        assert_eq!(b.scenario, w.scenario);
        assert_eq!(b.first_mes, w.first_mes);
        assert_eq!(b.alternate_greetings, w.alternate_greetings);
        assert_eq!(b.mes_example, w.mes_example);
        assert_eq!(b.system_prompt, w.system_prompt);
        assert_eq!(b.post_history_instructions, w.post_history_instructions);
        assert_eq!(b.creator_notes, w.creator_notes);
        assert_eq!(b.tags, w.tags);
        assert_eq!(b.creator, w.creator, "the original creator is kept");
        assert_eq!(b.nickname, w.nickname);
        let entries = |c: &CardV3| -> Vec<(Vec<String>, String)> {
            c.data
                .character_book
                .as_ref()
                .map(|book| {
                    book.entries
                        .iter()
                        .map(|e| (e.keys.clone(), e.content.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(!entries(&orig).is_empty());
        assert_eq!(
            entries(&back),
            entries(&orig),
            "the lorebook came back linked"
        );
    }

    // And the new character is listed by the sandbox's creator.
    let o = run(env.cmd(["--mock", "--json", "characters", "get", &id.to_string()])).await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["node"]["fullPath"], path);
}
