//! Small helpers that spell CloudFormation's intrinsic functions.

use serde_json::{Value, json};

/// `{"Ref": name}`.
pub fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [name, attribute]}`.
pub fn att(name: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [name, attribute] })
}

/// `{"Fn::Sub": text}`: `${Name}` and `${Name.Attribute}` are filled in by CloudFormation.
pub fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

/// `{"Fn::If": [condition, then, else]}`.
pub fn when(condition: &str, then: Value, otherwise: Value) -> Value {
    json!({ "Fn::If": [condition, then, otherwise] })
}

/// `AWS::NoValue`: the property is left out.
pub fn nothing() -> Value {
    r("AWS::NoValue")
}

/// checkov's way of recording why a check does not apply to a resource.
pub fn skips(reasons: &[(&str, &str)]) -> Value {
    let skip: Vec<_> = reasons
        .iter()
        .map(|(id, comment)| json!({ "id": id, "comment": comment }))
        .collect();
    json!({ "checkov": { "skip": skip } })
}

/// A logical id from words (`GET /api/pages/{slug+}` → `GetApiPagesSlug`, `auth` → `Auth`):
/// each run of letters and digits capitalised, everything else dropped.
pub fn pascal(words: &str) -> String {
    let mut id = String::new();
    for w in words.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut c = w.chars();
        if let Some(first) = c.next() {
            id.push(first.to_ascii_uppercase());
            id.push_str(&c.as_str().to_ascii_lowercase());
        }
    }
    id
}
