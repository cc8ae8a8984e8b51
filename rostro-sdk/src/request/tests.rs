use super::file::guess_mime;
use super::*;

static OP: Operation = Operation {
    id: "op",
    method: HttpMethod::Get,
    path: "/a/{id}/b/{idx}",
    base: Base::Api,
};

#[test]
fn path_params_are_encoded_as_one_segment() {
    let mut r = Request::new(&OP);
    r.path_param("id", "a b/c?d#é");
    r.path_param("idx", 7);
    assert_eq!(r.rendered_path(), "/a/a%20b%2Fc%3Fd%23%C3%A9/b/7");
    assert!(r.invalid.is_none());
}

#[test]
fn bad_path_params_are_remembered() {
    let mut r = Request::new(&OP);
    r.path_param("nope", 1);
    assert!(r.invalid.is_some());
    let mut r = Request::new(&OP);
    r.path_param("id", "..");
    assert!(r.invalid.is_some());
    let mut r = Request::new(&OP);
    r.path_param("id", "");
    assert!(r.invalid.is_some());
}

#[test]
fn query_is_form_encoded_in_order() {
    let mut r = Request::new(&OP);
    r.query("t", "a b&c");
    r.query("t", "x");
    assert_eq!(r.query_string(), "t=a+b%26c&t=x");
}

#[test]
fn invalid_header_value_is_deferred_without_echo() {
    let opts = RequestOptions::default().extra_header("x-key", "sec\nret");
    let msg = opts.invalid.clone().unwrap();
    assert!(!msg.contains("sec"));
    assert!(msg.contains("x-key"));
}

#[test]
fn disposition_escaping() {
    assert_eq!(escape_disposition("a\"b\r\n"), "a%22b%0D%0A");
    assert_eq!(guess_mime("x.PNG"), "image/png");
}
