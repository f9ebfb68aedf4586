use serde_json::json;

use super::{markup, type_name};

#[test]
fn descriptions_are_escaped_and_only_backticks_become_code() {
    let html = markup(&json!("a <b>bold</b> `x<y` & \"q\""));
    assert_eq!(html, "a &lt;b&gt;bold&lt;/b&gt; <code>x&lt;y</code> &amp; &quot;q&quot;");
    assert_eq!(markup(&json!(null)), "");
}

#[test]
fn types_read_as_a_person_would_say_them() {
    assert_eq!(type_name(&json!({"$ref": "#/components/schemas/UserResponse"})), "UserResponse");
    assert_eq!(
        type_name(&json!({"type": "array", "items": {"$ref": "#/x/EventResponse"}})),
        "array of EventResponse"
    );
    assert_eq!(type_name(&json!({"type": ["string", "null"], "format": "password"})), "string (password)");
    assert_eq!(type_name(&json!({"type": "string", "enum": ["user", "admin"]})), "user | admin");
}
