use super::*;

fn decode_all(pieces: &[&[u8]]) -> (Vec<Result<SseEvent, StreamErrorKind>>, Option<SseEvent>) {
    let mut d = SseDecoder::new(64);
    let mut out = Vec::new();
    for p in pieces {
        d.push(p);
        while let Some(e) = d.next_event() {
            out.push(e);
        }
    }
    let trailing = d.finish();
    while let Some(e) = d.next_event() {
        out.push(e);
    }
    (out, trailing)
}

fn ev(event: &str, data: &str, id: Option<&str>) -> Result<SseEvent, StreamErrorKind> {
    Ok(SseEvent {
        event: event.into(),
        data: data.into(),
        id: id.map(Into::into),
    })
}

#[test]
fn fields_comments_and_line_endings() {
    let (out, trailing) = decode_all(&[
        b"\xEF\xBB",
        b"\xBFdata: a\r",
        b"\ndata:b\rdata\r\r: c\n\nevent: x\nid: 7\ndata\n\nretry: 5\n\nfoo: bar\n\n",
    ]);
    assert_eq!(
        out,
        vec![ev("message", "a\nb\n", None), ev("x", "", Some("7"))]
    );
    assert_eq!(trailing, None);
}

#[test]
fn bom_only_once_and_not_a_bom() {
    let (out, _) = decode_all(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]);
    // The second BOM is part of the field name, which is then unknown.
    assert!(out.is_empty(), "{out:?}");
    let (out, _) = decode_all(&[b"\xEF", b"data: x\n\n"]);
    // A lone first BOM byte is content: `\xEFdata` is an unknown field.
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn trailing_event_and_cap() {
    let (out, trailing) = decode_all(&[b"data: [DONE]\n"]);
    assert!(out.is_empty());
    assert_eq!(trailing.map(|e| e.data), Some("[DONE]".to_owned()));
    let (out, trailing) = decode_all(&[b"data: [DO"]);
    assert!(out.is_empty());
    assert_eq!(trailing.map(|e| e.data), Some("[DO".to_owned()));

    let (out, _) = decode_all(&[b"data: ok\n\ndata: ", &[b'x'; 40], &[b'y'; 40], b"\n\n"]);
    assert_eq!(
        out,
        vec![
            ev("message", "ok", None),
            Err(StreamErrorKind::EventTooLarge { cap: 64 })
        ]
    );
    let (out, _) = decode_all(&[b"data: \xFF\n\n"]);
    assert_eq!(out, vec![Err(StreamErrorKind::InvalidUtf8)]);
}

use crate::chat::{ChatAccumulator, ChatCompletionChunk};

fn core_over(pieces: Vec<Vec<u8>>) -> SseCore<ChatCompletionChunk, ChatAccumulator> {
    let body = futures::stream::iter(pieces.into_iter().map(|p| Ok(Bytes::from(p))));
    let client = Client::builder().api_key("sk-secret").build().unwrap();
    SseCore::new("test", client, Box::pin(body), None, 1 << 20)
}

async fn drain(
    mut core: SseCore<ChatCompletionChunk, ChatAccumulator>,
) -> (Vec<crate::Result<ChatCompletionChunk>>, ChatAccumulator) {
    let mut out = Vec::new();
    while let Some(item) = futures::future::poll_fn(|cx| core.poll_chunk(cx)).await {
        out.push(item);
    }
    (out, core.acc)
}

fn chunk(text: &str) -> String {
    format!(
        r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}]}}"#
    )
}

fn body(eol: &str) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(": keep-alive{eol}{eol}"));
    for w in ["a", "b", "é", "d"] {
        s.push_str(&format!("data: {}{eol}{eol}", chunk(w)));
    }
    s.push_str(&format!("event: ping{eol}data: {{}}{eol}{eol}"));
    s.push_str(&format!("data: [DONE]{eol}{eol}"));
    s.into_bytes()
}

#[tokio::test]
async fn any_split_of_the_body_decodes_the_same() {
    for eol in ["\n", "\r\n"] {
        let whole = body(eol);
        for size in [1, 2, 3, 7, 64, whole.len()] {
            let pieces: Vec<Vec<u8>> = whole.chunks(size).map(<[u8]>::to_vec).collect();
            let (items, acc) = drain(core_over(pieces)).await;
            assert_eq!(items.len(), 4, "eol {eol:?} size {size}");
            assert!(items.iter().all(Result::is_ok));
            assert_eq!(acc.content(0), Some("abéd"));
        }
    }
}

#[tokio::test]
async fn error_event_and_missing_done() {
    let data = format!(
        "data: {}\n\ndata: {{\"error\":{{\"message\":\"boom sk-secret\",\"code\":500}}}}\n\n",
        chunk("x")
    );
    let (items, _) = drain(core_over(vec![data.into_bytes()])).await;
    assert_eq!(items.len(), 2);
    match &items[1] {
        Err(Error::Stream {
            body: Some(body),
            partial,
            message,
            ..
        }) => {
            assert_eq!(partial, "x");
            assert!(message.contains("boom ***"), "{message}");
            assert!(matches!(**body, ApiErrorBody::OpenAi(_)));
        }
        other => panic!("{other:?}"),
    }

    let data = format!("data: {}\n\ndata: {}\n\n", chunk("x"), chunk("y"));
    let mut core = core_over(vec![data.into_bytes()]);
    let mut items = Vec::new();
    while let Some(item) = futures::future::poll_fn(|cx| core.poll_chunk(cx)).await {
        items.push(item);
    }
    assert!(core.is_terminated() && !core.is_done());
    match items.last() {
        Some(Err(Error::Stream { partial, body, .. })) => {
            assert_eq!(partial, "xy");
            assert!(body.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn undecodable_event_is_a_stream_error_with_partial() {
    let data = format!("data: {}\n\ndata: {{\"choices\": 7}}\n\n", chunk("x"));
    let (items, _) = drain(core_over(vec![data.into_bytes()])).await;
    match &items[1] {
        Err(Error::Stream {
            message, partial, ..
        }) => {
            assert!(message.contains("choices"), "{message}");
            assert_eq!(partial, "x");
        }
        other => panic!("{other:?}"),
    }
    // Nothing after the error.
    let mut core = core_over(vec![b"data: {\"choices\": 7}\n\ndata: [DONE]\n\n".to_vec()]);
    assert!(
        futures::future::poll_fn(|cx| core.poll_chunk(cx))
            .await
            .unwrap()
            .is_err()
    );
    assert!(
        futures::future::poll_fn(|cx| core.poll_chunk(cx))
            .await
            .is_none()
    );
}
