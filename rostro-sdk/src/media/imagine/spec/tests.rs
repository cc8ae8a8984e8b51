use super::*;

#[test]
fn aspect_ratios_accept_the_usual_spellings() {
    assert_eq!(normalize_aspect_ratio("16:9".into()), AspectRatio::W16h9);
    assert_eq!(normalize_aspect_ratio("1x1".into()), AspectRatio::W1h1);
    assert_eq!(normalize_aspect_ratio("w2h3".into()), AspectRatio::W2h3);
    assert!(matches!(
        normalize_aspect_ratio("7:5".into()),
        AspectRatio::Unknown(_)
    ));
    let err = GenerationSpec::text_to_image("x")
        .aspect_ratio("7:5")
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("aspect_ratio"), "{err}");
}

#[test]
fn each_type_checks_what_it_needs() {
    let msg = |s: GenerationSpec| s.validate().unwrap_err().to_string();
    assert!(msg(GenerationSpec::text_to_image("  ")).contains("`prompt`"));
    assert!(msg(GenerationSpec::text_to_speech("")).contains("`transcript`"));
    assert!(msg(GenerationSpec::text_to_music("shanty")).contains("`lyrics`"));
    assert!(
        msg(GenerationSpec::text_to_music("shanty").music_type(MusicGenType::Vocals))
            .contains("`lyrics`")
    );
    GenerationSpec::text_to_music("shanty")
        .music_type(MusicGenType::Instrumental)
        .validate()
        .unwrap();
    GenerationSpec::text_to_music("shanty")
        .lyrics("[verse]\nyo ho\n\n")
        .validate()
        .unwrap();
    assert!(msg(GenerationSpec::image_to_video()).contains("`init_image`"));
    assert!(msg(GenerationSpec::image_to_3d()).contains("`init_image`"));
    assert!(msg(GenerationSpec::image_to_image("x")).contains("`init_image`"));
    GenerationSpec::image_to_3d()
        .add_init_image("https://x/a.png")
        .validate()
        .unwrap();
    assert!(msg(GenerationSpec::new("text_to_smell")).contains("`generation_type`"));
    assert!(msg(GenerationSpec::text_to_video("x").duration(0)).contains("`duration`"));
    assert!(
        msg(GenerationSpec::image_to_image("x")
            .init_image("u")
            .strength(1.5))
        .contains("`strength`")
    );
    assert!(msg(GenerationSpec::image_to_video().init_image("")).contains("`init_image`"));
}

#[test]
fn files_are_spliced_as_data_urls() {
    let files = vec![("ph0".to_owned(), FilePart::from_bytes("a.png", &b"abc"[..]))];
    let segments = splice_files(br#"{"a":1,"init_image":"ph0","z":2}"#, &files).unwrap();
    let Segment::Literal(head) = &segments[0] else {
        panic!()
    };
    assert_eq!(&head[..], br#"{"a":1,"init_image":"data:image/png;base64,"#);
    let Segment::Literal(tail) = &segments[3] else {
        panic!()
    };
    assert_eq!(&tail[..], br#","z":2}"#);
}
