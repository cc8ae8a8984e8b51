//! Character cards read from fixtures written by an independent encoder (Python's standard
//! library, `tests/fixtures/cards/make_fixtures.py`) after the published V1/V2/V3 specs, and
//! written back: every container, every text chunk kind, unknown fields kept, typed errors for
//! files that are not cards, and a reader that never panics on damaged bytes.

use std::io::Cursor;
use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rostro_sdk::cards::{
    self, Card, CardError, CardFormat, CardSpec, CardV3, read_card, read_charx, read_png_chunks,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

/// Decoded pixels and colour layout of a PNG, to check that writing a card kept the image.
fn pixels(png_bytes: &[u8]) -> (png::ColorType, png::BitDepth, Vec<u8>, Option<Vec<u8>>) {
    let decoder = png::Decoder::new(Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    buf.truncate(frame.buffer_size());
    let info = reader.info();
    (
        info.color_type,
        info.bit_depth,
        buf,
        info.trns.as_ref().map(|t| t.to_vec()),
    )
}

#[test]
fn v2_json_fixture_reads_every_spec_field_and_keeps_unknown_ones() {
    let bytes = fixture("v2_spec.json");
    let read = read_card(&bytes).unwrap();
    assert_eq!(read.format, CardFormat::Json);
    let Card::V2(card) = &read.card else {
        panic!("expected V2, got {:?}", read.card.version())
    };
    let d = &card.data;
    assert_eq!(d.name, "Seraphina");
    assert_eq!(d.personality, "caring, protective, wise");
    assert_eq!(
        d.alternate_greetings,
        ["*She tends to a fawn.* Oh! A visitor.", "You came back."]
    );
    assert_eq!(
        d.creator_notes,
        "Works best with a warm, descriptive style. Ünïcødé ✓"
    );
    assert_eq!(d.character_version, "2.1");
    assert_eq!(d.extensions["depth_prompt"]["depth"], 4);
    let book = d.character_book.as_ref().unwrap();
    assert_eq!(book.scan_depth, Some(6));
    assert_eq!(book.recursive_scanning, Some(true));
    assert_eq!(book.entries.len(), 2);
    let e0 = &book.entries[0];
    assert_eq!(e0.keys, ["Eldoria", "forest"]);
    assert_eq!(
        e0.secondary_keys.as_deref(),
        Some(&["glade".to_string()][..])
    );
    assert_eq!(e0.selective, Some(true));
    assert_eq!(e0.position.as_deref(), Some("before_char"));
    assert!(!book.entries[1].enabled);
    // Unknown fields at every level survive a write and a read.
    assert_eq!(d.extra["x_data_unknown"], json!({"kept": true}));
    assert_eq!(card.extra["x_top_unknown"], "kept too");
    assert_eq!(
        book.entries[1].extra["x_unknown_entry_field"],
        json!([1, 2, 3])
    );
    let again = serde_json::to_value(card).unwrap();
    assert_eq!(again, fixture_json("v2_spec.json"));
}

#[test]
fn v3_json_fixture_reads_the_v3_additions() {
    let read = read_card(&fixture("v3_spec.json")).unwrap();
    let Card::V3(card) = &read.card else {
        panic!("expected V3")
    };
    let d = &card.data;
    assert_eq!(d.name, "Seraphina V3");
    assert_eq!(d.nickname.as_deref(), Some("Sera"));
    assert_eq!(d.group_only_greetings, ["*Seraphina nods to the group.*"]);
    assert_eq!(d.creation_date, Some(1_700_000_000));
    assert_eq!(d.modification_date, Some(1_710_000_000));
    assert_eq!(
        d.creator_notes_multilingual.as_ref().unwrap()["fr"],
        "Style chaleureux."
    );
    let assets = d.assets.as_ref().unwrap();
    assert_eq!(assets[0].uri, "embeded://assets/icon/image/main.png");
    assert_eq!(assets[1].kind, "background");
    assert_eq!(
        d.character_book.as_ref().unwrap().entries[0].use_regex,
        Some(true)
    );
    assert_eq!(d.extra["x_v3_unknown"], 42);
    assert_eq!(
        serde_json::to_value(card).unwrap(),
        fixture_json("v3_spec.json")
    );
}

#[test]
fn v1_cards_read_from_json_and_png_and_become_v3() {
    for name in ["v1_tavern.json", "v1_text.png"] {
        let read = read_card(&fixture(name)).unwrap();
        assert_eq!(read.card.version(), 1, "{name}");
        let v3 = read.card.into_v3();
        assert_eq!(v3.spec, "chara_card_v3");
        assert_eq!(v3.data.name, "Old Tom");
        assert_eq!(
            v3.data.first_mes,
            "Shut the door, you're letting the rain in."
        );
        assert_eq!(
            v3.data.mes_example,
            "{{user}}: Hello?\n{{char}}: What do you want?"
        );
        // TavernAI's own top-level fields are kept, out of the way.
        assert_eq!(v3.data.extensions["rostro"]["v1"]["avatar"], "none");
    }
}

#[test]
fn ztxt_chunk_after_the_image_data_is_read() {
    let chunks = read_png_chunks(&fixture("v2_ztxt.png")).unwrap();
    assert!(chunks.v3.is_none());
    let Some(Card::V2(card)) = chunks.v2 else {
        panic!("no V2 card in the zTXt chunk")
    };
    assert_eq!(card.data.name, "Seraphina");
    assert_eq!(card.data.character_book.unwrap().entries.len(), 2);
}

#[test]
fn compressed_itxt_ccv3_is_preferred_over_chara() {
    let chunks = read_png_chunks(&fixture("v3_itxt_both.png")).unwrap();
    assert_eq!(
        chunks.v2.as_ref().map(|c| c.clone().into_v3().data.name),
        Some("Seraphina V2".into())
    );
    let read = read_card(&fixture("v3_itxt_both.png")).unwrap();
    assert_eq!(read.card.version(), 3);
    assert_eq!(read.card.into_v3().data.name, "Seraphina V3");
}

#[test]
fn charx_fixture_reads_card_and_main_icon() {
    let bytes = fixture("v3.charx");
    let x = read_charx(&bytes).unwrap();
    let icon = x.main_icon().expect("main icon");
    assert!(icon.starts_with(b"\x89PNG"));
    let read = read_card(&bytes).unwrap();
    assert_eq!(read.format, CardFormat::CharX);
    assert_eq!(read.image.as_deref(), Some(icon));
    assert_eq!(read.card.into_v3().data.nickname.as_deref(), Some("Sera"));
}

#[test]
fn files_that_are_not_cards_are_typed_errors() {
    assert_eq!(
        read_card(&fixture("no_card.png")).unwrap_err(),
        CardError::NoCardChunk
    );
    assert!(matches!(
        read_card(&fixture("bad_base64.png")).unwrap_err(),
        CardError::Base64 { chunk, .. } if chunk == "chara"
    ));
    assert!(matches!(
        read_card(&fixture("bad_json.png")).unwrap_err(),
        CardError::Json { message } if message.contains("`chara` chunk")
    ));
    assert_eq!(
        read_card(&fixture("no_card_json.charx")).unwrap_err(),
        CardError::NoCardJson
    );
    assert!(matches!(
        read_card(&fixture("missing_asset.charx")).unwrap_err(),
        CardError::MissingAsset { uri } if uri == "embeded://assets/icon/image/main.png"
    ));
    assert!(matches!(
        read_card(b"{\"spec\": \"chara_card_v9\", \"data\": {}}").unwrap_err(),
        CardError::UnsupportedSpec { spec } if spec == "chara_card_v9"
    ));
    assert!(matches!(
        read_card(b"[1, 2]").unwrap_err(),
        CardError::NotACard { .. }
    ));
    assert!(matches!(
        read_card(b"not json at all").unwrap_err(),
        CardError::Json { .. }
    ));
    // Every message starts by saying what is wrong.
    for e in [CardError::NoCardChunk, CardError::NoCardJson] {
        assert!(e.to_string().starts_with("not a card"), "{e}");
    }
}

fn v3_fixture() -> CardV3 {
    read_card(&fixture("v3_spec.json")).unwrap().card.into_v3()
}

#[test]
fn written_png_keeps_the_pixels_and_carries_both_chunks() {
    let card = v3_fixture();
    for image in ["palette_trns.png", "rgba16.png", "v2_ztxt.png"] {
        let original = fixture(image);
        let out = cards::write_png(&original, &card, false).unwrap();
        assert_eq!(pixels(&out), pixels(&original), "{image}: pixels changed");
        let chunks = read_png_chunks(&out).unwrap();
        // The old card chunk of v2_ztxt.png is replaced, not duplicated.
        assert_eq!(
            chunks.v3.clone().unwrap(),
            Card::V3(card.clone()),
            "{image}"
        );
        let Some(Card::V2(v2)) = chunks.v2 else {
            panic!("{image}: no chara chunk")
        };
        assert_eq!(v2, card.to_v2());
    }
}

#[test]
fn v2_only_png_has_no_ccv3_chunk() {
    let out = cards::write_png(&fixture("rgba16.png"), &v3_fixture(), true).unwrap();
    let chunks = read_png_chunks(&out).unwrap();
    assert!(chunks.v3.is_none());
    assert_eq!(chunks.v2.unwrap().version(), 2);
}

/// Every container and spec: written, read back, and equal to the card (V2 through
/// `extensions.rostro.v3`, which restores the V3-only fields).
#[test]
fn every_format_and_spec_round_trips() {
    let card = v3_fixture();
    let icon = fixture("palette_trns.png");
    for format in [CardFormat::Png, CardFormat::Json, CardFormat::CharX] {
        for spec in [CardSpec::V2, CardSpec::V3] {
            if format == CardFormat::CharX && spec == CardSpec::V2 {
                continue;
            }
            let bytes = cards::encode_card(&card, format, spec, Some(&icon)).unwrap();
            let read = read_card(&bytes).unwrap();
            assert_eq!(read.format, format);
            let expected_version = if spec == CardSpec::V2 { 2 } else { 3 };
            assert_eq!(read.card.version(), expected_version, "{format:?} {spec:?}");
            let mut back = read.card.into_v3();
            let mut want = card.clone();
            if format == CardFormat::CharX {
                // The CharX names its own icon; the card's other (remote) assets stay.
                let assets = back.data.assets.take().unwrap();
                assert_eq!(assets[0].uri, "embeded://assets/icon/image/main.png");
                assert_eq!(assets[1].uri, "https://example.invalid/bg.webp");
                want.data.assets = None;
                assert_eq!(read.image.as_deref(), Some(&icon[..]));
            }
            assert_eq!(back, want, "{format:?} {spec:?}");
        }
    }
}

#[test]
fn placeholder_is_a_real_png_when_there_is_no_avatar() {
    let bytes = cards::encode_card(&v3_fixture(), CardFormat::Png, CardSpec::V3, None).unwrap();
    let (color, depth, px, _) = pixels(&bytes);
    assert_eq!((color, depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    assert_eq!(px.len(), 256 * 256 * 3);
    assert_eq!(read_card(&bytes).unwrap().card.into_v3(), v3_fixture());
}

#[test]
fn world_info_lists_entries_by_uid_and_keeps_the_book() {
    let book = v3_fixture().data.character_book.unwrap();
    let wi = cards::world_info(&book);
    let e0 = &wi["entries"]["0"];
    assert_eq!(e0["key"], json!(["Eldor(ia|ian)"]));
    assert_eq!(e0["keysecondary"], json!(["glade"]));
    assert_eq!(e0["order"], 100);
    assert_eq!(e0["position"], 0);
    assert_eq!(e0["disable"], false);
    assert_eq!(e0["probability"], 80);
    assert_eq!(wi["entries"]["1"]["disable"], true);
    assert_eq!(wi["entries"]["1"]["position"], 1);
    assert_eq!(wi["originalData"], serde_json::to_value(&book).unwrap());
}

/// Damaged cards (flipped bytes, truncations) give a card or a typed error, never a panic.
#[test]
fn damaged_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let seeds = [
        fixture("v2_ztxt.png"),
        fixture("v3_itxt_both.png"),
        fixture("v3.charx"),
        fixture("v2_spec.json"),
    ];
    let mut outcomes = [0usize; 2];
    for original in &seeds {
        for cut in (0..original.len()).step_by(7) {
            outcomes[read_card(&original[..cut]).is_ok() as usize] += 1;
        }
        for _ in 0..400 {
            let mut bytes = original.clone();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
            }
            outcomes[read_card(&bytes).is_ok() as usize] += 1;
        }
    }
    // Both kinds of outcome occur: the damage is real, and some survives (e.g. a flip in
    // the pixels, which the reader does not decode).
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

/// Pre-V2 readers (TavernAI, and libraries such as aichar) read only the top level: the V2
/// form mirrors the V1 fields there, and reading it back does not keep the mirrors as extras.
#[test]
fn v2_form_mirrors_v1_fields_for_pre_v2_readers() {
    let card = v3_fixture();
    let v2 = card.to_v2();
    for (k, v) in [
        ("name", &card.data.name),
        ("description", &card.data.description),
        ("personality", &card.data.personality),
        ("scenario", &card.data.scenario),
        ("first_mes", &card.data.first_mes),
        ("mes_example", &card.data.mes_example),
    ] {
        assert_eq!(v2.extra[k], json!(v), "{k}");
    }
    assert_eq!(Card::V2(v2.clone()).into_v3(), card);
    // A V1 reader sees the card through the mirrors.
    let as_v1: cards::CardV1 = serde_json::from_value(serde_json::to_value(&v2).unwrap()).unwrap();
    assert_eq!(as_v1.first_mes, card.data.first_mes);
}
