//! The generator's rules, checked on the committed spec and tuning table.

use xtask::generate::{pascal, snake};

#[test]
fn acronyms_read_as_words_in_type_names() {
    // Every schema name the old splitter mangled, and what it reads now.
    let cases = [
        ("APIError", "ApiError"),
        ("APIResponse", "ApiResponse"),
        ("HTTPValidationError", "HttpValidationError"),
        ("STTResponse", "SttResponse"),
        ("I2IType", "I2IType"),
        ("Output3DType", "Output3DType"),
        ("JSONSchema", "JsonSchema"),
        ("OAuthUserStub", "OAuthUserStub"),
        ("RemoveBGRequest", "RemoveBgRequest"),
        ("ResponseFormatJSONObject", "ResponseFormatJsonObject"),
        ("ResponseFormatJSONSchema", "ResponseFormatJsonSchema"),
        ("AnnotationURLCitation", "AnnotationUrlCitation"),
    ];
    for (spec, rust) in cases {
        assert_eq!(pascal(spec), rust, "{spec}");
    }
    // What already read well keeps its name.
    assert_eq!(pascal("errorCode"), "ErrorCode");
    assert_eq!(pascal("gpt-4.1-mini"), "Gpt41Mini");
    assert_eq!(pascal("w16h9"), "W16h9");
    assert_eq!(pascal("16:9"), "V169");
    assert_eq!(snake("HTTPValidationError"), "http_validation_error");
    assert_eq!(snake("nTokens"), "n_tokens");
    assert_eq!(snake("type"), "type_");
}
