//! One readable line from an arbitrary body: what error messages quote from a response.

use super::SNIPPET_MAX_CHARS;

/// One line of text from arbitrary bytes: whitespace collapsed, at most
/// [`SNIPPET_MAX_CHARS`] characters (an ellipsis marks a cut).
pub fn snippet(bytes: &[u8]) -> String {
    // Never look at more than needed: 4 bytes per char at most, plus whitespace slack.
    let window = &bytes[..bytes.len().min(SNIPPET_MAX_CHARS * 8)];
    one_line(&String::from_utf8_lossy(window), bytes.len() > window.len())
}

fn one_line(text: &str, truncated: bool) -> String {
    let mut out = String::with_capacity(text.len().min(SNIPPET_MAX_CHARS + 4));
    let mut chars = 0;
    let mut cut = truncated;
    for word in text.split_whitespace() {
        if chars > 0 {
            if chars >= SNIPPET_MAX_CHARS {
                cut = true;
                break;
            }
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= SNIPPET_MAX_CHARS {
                cut = true;
                break;
            }
            out.push(c);
            chars += 1;
        }
    }
    if cut {
        out.push('…');
    }
    out
}

/// A readable line from a non-JSON body: an HTML page gives its `<title>`, other markup its
/// text without tags, anything else its first [`SNIPPET_MAX_CHARS`] characters.
pub fn readable_text(bytes: &[u8]) -> String {
    // Markup (HTML error pages, XML errors from storage backends) is reduced to its text.
    if bytes.first() != Some(&b'<') {
        return snippet(bytes);
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    if let Some(start) = lower.find("<title")
        && let Some(open_end) = lower[start..].find('>')
    {
        let content_start = start + open_end + 1;
        if let Some(len) = lower[content_start..].find("</title") {
            let title = decode_entities(&text[content_start..content_start + len]);
            let line = one_line(&title, false);
            if !line.is_empty() {
                return line;
            }
        }
    }
    // No title: drop tags, scripts and styles.
    let mut plain = String::with_capacity(text.len() / 2);
    let mut rest = &text[..];
    let mut rest_lower = &lower[..];
    while let Some(lt) = rest_lower.find('<') {
        plain.push_str(&rest[..lt]);
        plain.push(' ');
        let skip_to = if rest_lower[lt..].starts_with("<script") {
            rest_lower[lt..].find("</script>").map(|i| lt + i + 9)
        } else if rest_lower[lt..].starts_with("<style") {
            rest_lower[lt..].find("</style>").map(|i| lt + i + 8)
        } else {
            rest_lower[lt..].find('>').map(|i| lt + i + 1)
        };
        let Some(next) = skip_to else {
            rest = "";
            break;
        };
        rest = &rest[next..];
        rest_lower = &rest_lower[next..];
    }
    plain.push_str(rest);
    one_line(&decode_entities(&plain), false)
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_title() {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(readable_text(page), "502 Bad Gateway");
        let no_title = b"<!DOCTYPE html><html><body><h1>Oops</h1>\n<p>Try &amp; again</p><script>var x = 1;</script></body></html>";
        assert_eq!(readable_text(no_title), "Oops Try & again");
        let xml = b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(readable_text(xml), "AccessDenied Access Denied");
    }

    #[test]
    fn snippet_is_bounded() {
        let long = "ab ".repeat(1000);
        let s = snippet(long.as_bytes());
        assert!(s.chars().count() <= SNIPPET_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"a\n\n b\t c"), "a b c");
    }
}
