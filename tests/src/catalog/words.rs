//! Search-engine-like word matching: case-insensitive, plural or singular.

use super::*;

/// Lower-cased words of a text, each with its singular forms
/// (`"Dragons"` -> `[dragons, dragon]`).
pub(super) fn words_of(text: &str) -> Vec<Vec<String>> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| forms(&w.to_lowercase()))
        .collect()
}

/// A word, it without a final `s`, and its rough singular: plural and singular
/// of one word always share a form (`elves`/`elf`, `caves`/`cave`).
pub(super) fn forms(w: &str) -> Vec<String> {
    let mut f = vec![w.to_string()];
    if w.chars().count() > 3
        && let Some(stem) = w.strip_suffix('s')
    {
        f.push(stem.to_string());
    }
    let s = singular(w);
    if !f.contains(&s) {
        f.push(s);
    }
    f
}

/// The words a query asks for (every one must match, in any order).
pub(super) fn query_words(text: &str) -> Vec<Vec<String>> {
    words_of(text)
}

/// The words an entry is found by: name, tagline, description, tags, creator.
pub(super) fn entry_words(e: &CatalogEntry) -> Vec<Vec<String>> {
    let mut w = words_of(&e.name);
    w.extend(words_of(&e.tagline));
    w.extend(words_of(&e.description));
    for t in &e.tags {
        w.extend(words_of(t));
    }
    w.extend(words_of(&e.creator));
    w
}

/// A query word matches a word sharing a form with it, or (from three
/// letters) a word it begins (`drag` finds `dragon`).
pub(super) fn word_matches(query: &[String], haystack: &[Vec<String>]) -> bool {
    haystack.iter().any(|w| {
        query.iter().any(|q| {
            w.contains(q) || (q.chars().count() >= 3 && w.first().is_some_and(|x| x.starts_with(q)))
        })
    })
}

/// A rough English singular, enough for catalog search (`dragons`, `wolves`,
/// `stories`, `witches` -> `dragon`, `wolf`, `story`, `witch`).
pub(super) fn singular(w: &str) -> String {
    let n = w.chars().count();
    if n <= 3 || !w.is_ascii() {
        return w.to_string();
    }
    if let Some(stem) = w.strip_suffix("ies") {
        return format!("{stem}y");
    }
    if let Some(stem) = w.strip_suffix("ves") {
        return format!("{stem}f");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}
