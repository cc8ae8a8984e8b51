use super::names::extension_for;
use super::*;

#[test]
fn names_are_sanitized() {
    assert_eq!(sanitize("../../etc/passwd"), "_.._etc_passwd");
    assert_eq!(sanitize(".hidden"), "hidden");
    assert_eq!(
        url_file_name("https://cdn.x/media/a%20b.png?sig=1").as_deref(),
        Some("a_b.png")
    );
    assert_eq!(url_file_name("https://cdn.x/").as_deref(), None);
    assert_eq!(extension_for("image/png; charset=binary"), Some("png"));
}
