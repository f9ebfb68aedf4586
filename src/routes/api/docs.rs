//! The page of `GET /api/docs`: the OpenAPI document as a person reads it, rendered from the
//! document itself (so the two cannot disagree), with no script and no asset from elsewhere.

use askama::Template;
use serde_json::{Map, Value};

use crate::routes::view::layout::Layout;

#[derive(Template)]
#[template(path = "pages/api_docs.html")]
pub struct DocsPage {
    layout: Layout,
    title: String,
    version: String,
    description: String,
    sections: Vec<Section>,
    schemes: Vec<Field>,
    schemas: Vec<SchemaView>,
}

pub struct Section {
    name: String,
    description: String,
    operations: Vec<OperationView>,
}

pub struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    auth: String,
    params: Vec<Field>,
    body: Option<(String, String)>,
    responses: Vec<Field>,
}

/// A row of a table: a name, a type (or a schema's name), whether it is required, a text.
pub struct Field {
    name: String,
    ty: String,
    required: bool,
    description: String,
}

pub struct SchemaView {
    name: String,
    description: String,
    fields: Vec<Field>,
}

/// The page for the document `doc` (the OpenAPI JSON), under the site's layout.
pub fn page(layout: Layout, doc: &Value) -> DocsPage {
    let info = &doc["info"];
    let schemas = doc.pointer("/components/schemas").and_then(Value::as_object);
    DocsPage {
        layout,
        title: text(&info["title"]),
        version: text(&info["version"]),
        description: markup(&info["description"]),
        sections: sections(doc),
        schemes: doc
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .map(|all| all.iter().map(|(name, s)| scheme(name, s)).collect())
            .unwrap_or_default(),
        schemas: schemas
            .map(|all| {
                all.iter()
                    .map(|(name, s)| SchemaView {
                        name: name.clone(),
                        description: markup(&s["description"]),
                        fields: properties(s, schemas),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// One section per tag, in the document's order, each with its operations in path order.
fn sections(doc: &Value) -> Vec<Section> {
    let mut sections: Vec<Section> = doc["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| Section {
                    name: text(&t["name"]),
                    description: markup(&t["description"]),
                    operations: vec![],
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(paths) = doc["paths"].as_object() else { return sections };
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op.pointer("/tags/0").map(text).unwrap_or_default();
            let view = operation(method, path, op, doc);
            match sections.iter_mut().find(|s| s.name == tag) {
                Some(section) => section.operations.push(view),
                None => {
                    sections.push(Section { name: tag, description: String::new(), operations: vec![view] })
                }
            }
        }
    }
    sections.retain(|s| !s.operations.is_empty());
    sections
}

fn operation(method: &str, path: &str, op: &Value, doc: &Value) -> OperationView {
    let params = op["parameters"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|p| Field {
                    name: format!("{} ({})", text(&p["name"]), text(&p["in"])),
                    ty: type_name(&p["schema"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: markup(&p["description"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let body = op["requestBody"]["content"]
        .as_object()
        .and_then(|c| c.iter().next())
        .map(|(content_type, media)| (content_type.clone(), type_name(&media["schema"])));
    let responses = op["responses"]
        .as_object()
        .map(|all| {
            all.iter()
                .map(|(status, r)| {
                    let r = resolve(r, doc);
                    let ty = r["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|media| type_name(&media["schema"]))
                        .unwrap_or_default();
                    Field {
                        name: status.clone(),
                        ty,
                        required: false,
                        description: markup(&r["description"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    OperationView {
        anchor: format!("{method}-{}", path.trim_start_matches('/').replace(['/', '{', '}', '.'], "-")),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary: markup(&op["summary"]),
        description: markup(&op["description"]),
        auth: auth(op),
        params,
        body,
        responses,
    }
}

/// "bearer, or access_cookie + csrf_header, or none" from the operation's requirements.
fn auth(op: &Value) -> String {
    let Some(requirements) = op["security"].as_array() else { return "none".into() };
    let alternatives: Vec<String> =
        requirements
            .iter()
            .filter_map(Value::as_object)
            .map(|r| {
                if r.is_empty() {
                    "none".to_owned()
                } else {
                    r.keys().cloned().collect::<Vec<_>>().join(" + ")
                }
            })
            .collect();
    if alternatives.is_empty() { "none".into() } else { alternatives.join(", or ") }
}

fn scheme(name: &str, s: &Value) -> Field {
    let ty = match text(&s["type"]).as_str() {
        "http" => format!("HTTP {}", text(&s["scheme"])),
        "apiKey" => format!("{} {}", text(&s["in"]), text(&s["name"])),
        other => other.to_owned(),
    };
    Field { name: name.to_owned(), ty, required: false, description: markup(&s["description"]) }
}

/// The fields of an object schema, following `allOf` parts (a flattened struct).
fn properties(schema: &Value, schemas: Option<&Map<String, Value>>) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            let part = match part["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
                Some(name) => schemas.and_then(|s| s.get(name)).unwrap_or(part),
                None => part,
            };
            fields.extend(properties(part, schemas));
        }
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema["properties"].as_object() {
        fields.extend(props.iter().map(|(name, p)| Field {
            name: name.clone(),
            ty: type_name(p),
            required: required.contains(&name.as_str()),
            description: markup(&p["description"]),
        }));
    }
    fields
}

/// A short name for a schema: a component's name, a type with its format, an enum's values.
fn type_name(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return name.to_owned();
    }
    if let Some(values) = schema["enum"].as_array() {
        return values
            .iter()
            .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            return parts.iter().map(type_name).filter(|t| t != "null").collect::<Vec<_>>().join(" or ");
        }
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" or ")
        }
        _ => String::new(),
    };
    let ty = if ty == "array" { format!("array of {}", type_name(&schema["items"])) } else { ty };
    match schema["format"].as_str() {
        Some(format) => format!("{ty} ({format})"),
        None => ty,
    }
}

/// A response given by reference (`#/components/responses/…`) resolved to itself.
fn resolve<'a>(r: &'a Value, doc: &'a Value) -> &'a Value {
    r["$ref"]
        .as_str()
        .and_then(|reference| reference.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(r)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A description as HTML: escaped, with `backticked` spans set as code (the one markup the
/// descriptions use). Rendered unescaped by the template, so everything else is escaped here.
fn markup(v: &Value) -> String {
    let escaped = v
        .as_str()
        .unwrap_or_default()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    escaped
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_owned() })
        .collect()
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
