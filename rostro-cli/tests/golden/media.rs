//! Golden scenarios of the media commands: imagine (every verb), gallery, lore, voices,
//! stt, assets.

use super::harness::Golden;
use super::{PNG, WAV, id_in};

#[test]
fn imagine() {
    let mut g = Golden::new("imagine");
    let out = g.path("out");
    std::fs::create_dir_all(&out).unwrap();
    g.run(&[
        "--mock",
        "imagine",
        "image",
        "a lighthouse at dusk",
        "--seed",
        "7",
        "--out",
        &out,
    ]);
    g.tty(&[
        "--mock",
        "imagine",
        "image",
        "a lighthouse at dusk",
        "--seed",
        "7",
        "--out",
        &out,
    ]);
    let o = g.run(&[
        "--mock",
        "--json",
        "imagine",
        "image",
        "a harbour",
        "--no-wait",
    ]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&[
        "--mock",
        "imagine",
        "wait",
        &uuid,
        "--out",
        &g.path("wait.png"),
    ]);
    g.run(&["--mock", "--json", "imagine", "wait", &uuid]);
    let o = g.run(&["--mock", "imagine", "image", "a cliff", "--no-wait"]);
    assert_eq!(o.code, 0);
    g.run(&["--mock", "imagine", "history", "--limit", "3"]);
    g.run(&["--mock", "--json", "imagine", "history", "--limit", "2"]);
    g.finish();
}

#[test]
fn imagine_media() {
    let mut g = Golden::new("imagine-media");
    let img = g.file("in.png", PNG);
    let out = g.path("media/");
    for args in [
        vec!["video", "waves", "--duration", "3"],
        vec!["speech", "hello sailor", "--voice", "calm_female_20s"],
        vec!["music", "a sea shanty", "--music-type", "instrumental"],
        vec!["sfx", "a foghorn"],
        vec!["model3d", "a lighthouse"],
        vec!["edit", img.as_str(), "make it night"],
        vec!["animate", img.as_str(), "the light turns"],
        vec!["upscale", img.as_str()],
    ] {
        let mut argv = vec!["--mock", "imagine"];
        argv.extend(args.iter().copied());
        argv.extend(["--out", out.as_str()]);
        g.run(&argv);
    }
    g.run(&["--mock", "--json", "imagine", "sfx", "a bell", "--no-wait"]);
    g.finish();
}

#[test]
fn gallery() {
    let mut g = Golden::new("gallery");
    let dir = g.path("renders");
    g.file("renders/a.png", PNG);
    g.file("renders/b.png", PNG);
    let manifest = g.path("upload.ndjson");
    g.run(&[
        "--mock",
        "gallery",
        "upload",
        "--project",
        "1096",
        &dir,
        "--manifest",
        &manifest,
        "-j",
        "1",
    ]);
    g.run(&[
        "--mock",
        "--json",
        "gallery",
        "upload",
        "--project",
        "1096",
        &g.path("renders/a.png"),
    ]);
    g.run(&[
        "--mock",
        "gallery",
        "list",
        "--project",
        "1096",
        "--limit",
        "5",
    ]);
    let o = g.run(&[
        "--mock",
        "--json",
        "gallery",
        "list",
        "--project",
        "1096",
        "--limit",
        "5",
    ]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "gallery", "delete", &uuid]);
    g.finish();
}

#[test]
fn lore() {
    let mut g = Golden::new("lore");
    let notes = g.file("notes.txt", b"The lighthouse keeper is called Mira.\n");
    g.run(&["--mock", "lore", "add", &notes, "--owner", "1096"]);
    let o = g.run(&["--mock", "--json", "lore", "add", &notes, "--owner", "1096"]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "lore", "list", "--owner", "1096"]);
    g.run(&["--mock", "--json", "lore", "list", "--owner", "1096"]);
    g.run(&[
        "--mock",
        "lore",
        "query",
        "who keeps the lighthouse?",
        "--owner",
        "1096",
    ]);
    g.run(&[
        "--mock",
        "--json",
        "lore",
        "query",
        "who keeps the lighthouse?",
        "--owner",
        "1096",
    ]);
    g.run(&["--mock", "lore", "remove", "1096", &uuid]);
    let o = g.quiet(&[
        "--mock",
        "--json",
        "search",
        "dragon",
        "--lorebooks",
        "--limit",
        "1",
    ]);
    let book = if o.code == 0 {
        id_in(&o.stdout, "id")
    } else {
        "1".to_owned()
    };
    g.run(&[
        "--mock",
        "lore",
        "download",
        &book,
        "--out",
        &g.path("book.json"),
    ]);
    g.run(&[
        "--mock", "lore", "download", &book, "--format", "book", "--out", "-",
    ]);
    g.finish();
}

#[test]
fn voices_and_stt() {
    let mut g = Golden::new("voices");
    let wav = g.file("voice.wav", WAV);
    g.run(&["--mock", "voices", "list"]);
    g.run(&["--mock", "--json", "voices", "list"]);
    let o = g.run(&[
        "--mock", "--json", "voices", "clone", &wav, "--name", "Keeper",
    ]);
    g.run(&["--mock", "voices", "clone", &wav, "--name", "Keeper 2"]);
    let id = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "voices", "delete", &id]);
    g.run(&["--mock", "stt", &wav]);
    g.run(&["--mock", "--json", "stt", &wav]);
    g.finish();
}

#[test]
fn assets() {
    let mut g = Golden::new("assets");
    let file = g.file("model.glb", &[7u8; 4096]);
    g.run(&["--mock", "assets", "upload", &file]);
    let o = g.run(&[
        "--mock",
        "--json",
        "assets",
        "upload",
        &file,
        "--chunk-threshold",
        "0",
        "--part-size",
        "1",
    ]);
    g.run(&["--mock", "assets", "list"]);
    g.run(&["--mock", "--json", "assets", "list"]);
    let id = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "assets", "get", &id]);
    g.run(&["--mock", "--json", "assets", "get", &id]);
    g.finish();
}
