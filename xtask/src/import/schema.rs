//! The `# Schemas` part of the reference: one `tocS_` section per component schema,
//! its sample, property tables and enum tables.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value, json};

use super::strip_tags;
use super::table::{Row, parse_json, parse_row, read_fence, read_table, type_schema};

pub(super) fn parse_schemas(lines: &[&str], first_line: usize) -> Result<Map<String, Value>> {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("<h2 id=\"tocS_"))
        .map(|(i, _)| i)
        .collect();
    let mut schemas = Map::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let name = strip_tags(lines[start]);
        let schema = parse_schema(&name, &lines[start..end], first_line + start)
            .with_context(|| format!("schema `{name}` at line {}", first_line + start))?;
        ensure!(
            schemas.insert(name.clone(), schema).is_none(),
            "schema `{name}` twice"
        );
    }
    Ok(schemas)
}

/// A property being assembled from the flattened tables.
struct Prop {
    name: String,
    required: bool,
    description: Option<String>,
    schema: Value,
}

/// Where `anyOf` alternatives currently go: the property's own list, or the items of an
/// array-of-anyOf alternative nested in it.
enum Ctx {
    Property(Vec<Value>),
    Nested(Nested, Vec<Value>),
}

/// What a nested `anyOf` describes: the items of an `[anyOf]` array, or the values of an
/// object's `additionalProperties` (typed `any`, then detailed by the nested `anyOf`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Nested {
    Items,
    Values,
}

fn parse_schema(name: &str, lines: &[&str], first_line: usize) -> Result<Value> {
    let (sample, title, description, mut i) = read_preamble(lines, first_line)?;
    let mut tables = Tables::default();
    while i < lines.len() {
        i = tables.read_line(lines, i, first_line + i)?;
    }
    tables.close()?;
    let Tables {
        mut props,
        enum_rows,
        ..
    } = tables;

    // A schema whose only property is named like the schema itself is a primitive (enums).
    let primitive = props.len() == 1 && props[0].name == name;
    let mut schema = if primitive {
        let prop = props.pop().expect("one property");
        primitive_schema(name, prop, &enum_rows)?
    } else {
        assign_enums(name, &mut props, &enum_rows, &sample)?;
        object_schema(props)?
    };
    schema["title"] = json!(title);
    if !description.is_empty() {
        schema["description"] = json!(description.join("\n"));
    }
    schema["example"] = sample;
    Ok(schema)
}

/// Reads what comes before the property tables: the anchors, the sample, the schema's
/// title (not always its name: `FunctionCall-Input` is titled `FunctionCall`) and any
/// description paragraphs. Returns them and the index after `### Properties`.
fn read_preamble<'a>(
    lines: &[&'a str],
    first_line: usize,
) -> Result<(Value, String, Vec<&'a str>, usize)> {
    let mut i = 1;
    // Skip the anchors and find the sample.
    while i < lines.len() && !lines[i].starts_with("```") {
        ensure!(
            lines[i].is_empty() || lines[i].starts_with("<a id=") || lines[i].starts_with("<!--"),
            "line {}: unexpected `{}` before the sample",
            first_line + i,
            lines[i]
        );
        i += 1;
    }
    let (lang, text, next) = read_fence(lines, i)?;
    ensure!(lang == "json", "sample in `{lang}`");
    let sample = parse_json(&text, "schema sample")?;
    i = next;
    while i < lines.len() && lines[i].is_empty() {
        i += 1;
    }
    let title = lines.get(i).context("no title line")?.to_string();
    i += 1;
    let mut description = Vec::new();
    while i < lines.len() && lines[i] != "### Properties" {
        ensure!(
            !lines[i].starts_with('|') && !lines[i].starts_with('<'),
            "expected `### Properties`"
        );
        if !lines[i].is_empty() {
            description.push(lines[i]);
        }
        i += 1;
    }
    ensure!(i < lines.len(), "no `### Properties`");
    Ok((sample, title, description, i + 1))
}

/// The property tables of one schema as they are being read.
#[derive(Default)]
struct Tables {
    props: Vec<Prop>,
    stack: Vec<Ctx>,
    enum_rows: Vec<Row>,
    /// A nested `anyOf` the previous row announced (`[anyOf]` or `additionalProperties: any`).
    pending: Option<Nested>,
}

impl Tables {
    /// Closes every open `anyOf`, putting its alternatives where they belong.
    fn close(&mut self) -> Result<()> {
        while let Some(ctx) = self.stack.pop() {
            match ctx {
                Ctx::Nested(kind, alts) => {
                    attach_nested(&mut self.props, &mut self.stack, kind, alts)?
                }
                Ctx::Property(alts) => {
                    let prop = self.props.last_mut().context("anyOf before any property")?;
                    ensure!(
                        prop.schema == json!({}),
                        "anyOf on a property typed `{}`",
                        prop.schema
                    );
                    prop.schema = json!({ "anyOf": alts });
                }
            }
        }
        Ok(())
    }

    /// Reads the line at `lines[i]` (and the table it opens); returns the index of the
    /// next line to read.
    fn read_line(&mut self, lines: &[&str], i: usize, at: usize) -> Result<usize> {
        let line = lines[i];
        match line {
            "" => {}
            // An object with no declared properties.
            "*None*" if self.props.is_empty() && self.stack.is_empty() => {}
            "anyOf" => {
                if let Some(kind) = self.pending.take() {
                    self.stack.push(Ctx::Nested(kind, Vec::new()));
                } else {
                    ensure!(self.stack.is_empty(), "line {at}: nested anyOf");
                    ensure!(
                        !self.props.is_empty(),
                        "line {at}: anyOf before any property"
                    );
                    self.stack.push(Ctx::Property(Vec::new()));
                }
            }
            "or" => ensure!(!self.stack.is_empty(), "line {at}: `or` outside anyOf"),
            "continued" => {
                ensure!(
                    !self.stack.is_empty(),
                    "line {at}: `continued` outside anyOf"
                );
                self.close()?;
            }
            "#### Enumerated Values" => {
                self.close()?;
                let (rows, next) = read_table(lines, i + 2, "|Property|Value|", 2)?;
                self.enum_rows.extend(rows);
                return Ok(next);
            }
            "|Name|Type|Required|Restrictions|Description|" => {
                ensure!(
                    lines.get(i + 1).is_some_and(|l| l.starts_with("|---")),
                    "line {at}: header without separator"
                );
                return Ok(i + 2);
            }
            _ if line.starts_with('|') => self.row(line, at)?,
            _ => bail!("line {at}: unexpected `{line}`"),
        }
        Ok(i + 1)
    }

    /// One property-table row: a property, an `anyOf` alternative or an
    /// `additionalProperties` detail.
    fn row(&mut self, line: &str, at: usize) -> Result<()> {
        let row = parse_row(line, 5).with_context(|| format!("line {at}"))?;
        let [pname, ty, required, _restrictions, desc] = &row.cells[..] else {
            unreachable!()
        };
        // `additionalProperties: any` needs no detail; `[anyOf]` always gets it.
        ensure!(
            self.pending != Some(Nested::Items),
            "line {at}: `[anyOf]` not followed by anyOf"
        );
        self.pending = None;
        let schema = type_schema(ty).with_context(|| format!("line {at}"))?;
        match pname.as_str() {
            "*anonymous*" => self.alternative(ty, schema, at)?,
            "**additionalProperties**" => self.additional_properties(ty, schema, at)?,
            _ => {
                ensure!(!row.indented, "line {at}: nested named row `{pname}`");
                self.close()?;
                self.pending = (ty == "[anyOf]").then_some(Nested::Items);
                self.props.push(Prop {
                    name: pname.clone(),
                    required: required == "true",
                    description: (desc != "none").then(|| desc.clone()),
                    schema,
                });
            }
        }
        Ok(())
    }

    /// An `*anonymous*` row: one more alternative of the open `anyOf`.
    fn alternative(&mut self, ty: &str, schema: Value, at: usize) -> Result<()> {
        ensure!(
            !self.stack.is_empty(),
            "line {at}: anonymous row outside anyOf"
        );
        // An outer `null` alternative after an array-of-anyOf is rendered as if it were one
        // more item; nullability belongs to the property.
        if ty == "null" && matches!(self.stack.last(), Some(Ctx::Nested(..))) {
            let Some(Ctx::Nested(kind, alts)) = self.stack.pop() else {
                unreachable!()
            };
            attach_nested(&mut self.props, &mut self.stack, kind, alts)?;
            match self.stack.last_mut() {
                Some(Ctx::Property(parent)) => parent.push(schema),
                _ => {
                    let prop = self.props.last_mut().context("items without a property")?;
                    prop.schema = json!({ "anyOf": [prop.schema.take(), schema] });
                }
            }
        } else {
            self.pending = (ty == "[anyOf]").then_some(Nested::Items);
            match self.stack.last_mut() {
                Some(Ctx::Property(a)) | Some(Ctx::Nested(_, a)) => a.push(schema),
                None => unreachable!("checked above"),
            }
        }
        Ok(())
    }

    /// An `additionalProperties` row: the value schema of the object just described.
    fn additional_properties(&mut self, ty: &str, schema: Value, at: usize) -> Result<()> {
        let target = match self.stack.last_mut() {
            Some(Ctx::Property(a)) | Some(Ctx::Nested(_, a)) => a.last_mut(),
            None => self.props.last_mut().map(|p| &mut p.schema),
        }
        .with_context(|| format!("line {at}: additionalProperties without an object"))?;
        // `[object]` followed by additionalProperties: a list of maps.
        let target = if target["type"] == "array" {
            &mut target["items"]
        } else {
            target
        };
        ensure!(
            target["type"] == "object",
            "line {at}: additionalProperties on {target}"
        );
        self.pending = (ty == "any").then_some(Nested::Values);
        target["additionalProperties"] = schema;
        Ok(())
    }
}

/// A primitive schema (the one property named like the schema), with its enum values.
fn primitive_schema(name: &str, prop: Prop, enum_rows: &[Row]) -> Result<Value> {
    let mut s = prop.schema;
    let values: Vec<Value> = enum_rows
        .iter()
        .map(|r| {
            ensure!(
                r.cells[0] == name,
                "enum row `{}` in primitive `{name}`",
                r.cells[0]
            );
            Ok(Value::String(r.cells[1].clone()))
        })
        .collect::<Result<_>>()?;
    if !values.is_empty() {
        s["enum"] = Value::Array(values);
    }
    Ok(s)
}

/// An object schema from its properties (enums already assigned).
fn object_schema(props: Vec<Prop>) -> Result<Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in props {
        let mut s = p.schema;
        if let Some(d) = p.description {
            s["description"] = json!(d);
        }
        if p.required {
            required.push(json!(p.name));
        }
        ensure!(
            properties.insert(p.name.clone(), s).is_none(),
            "property `{}` twice",
            p.name
        );
    }
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    s.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        s.insert("required".into(), Value::Array(required));
    }
    Ok(Value::Object(s))
}

/// Puts the alternatives of a nested `anyOf` where they belong: the `items` of the
/// array, or the `additionalProperties` of the object, that is the last alternative of
/// the enclosing `anyOf` (or the property itself).
fn attach_nested(
    props: &mut [Prop],
    stack: &mut [Ctx],
    kind: Nested,
    alts: Vec<Value>,
) -> Result<()> {
    let host = match stack.last_mut() {
        Some(Ctx::Property(parent)) => {
            parent.last_mut().context("nested anyOf without its host")?
        }
        Some(Ctx::Nested(..)) => bail!("anyOf nested three deep"),
        None => {
            &mut props
                .last_mut()
                .context("nested anyOf without a property")?
                .schema
        }
    };
    let host = if kind == Nested::Values && host["type"] == "array" {
        &mut host["items"]
    } else {
        host
    };
    match kind {
        Nested::Items => {
            ensure!(host["type"] == "array", "items for a non-array {host}");
            host["items"] = json!({ "anyOf": alts });
        }
        Nested::Values => {
            ensure!(host["type"] == "object", "values for a non-object {host}");
            host["additionalProperties"] = json!({ "anyOf": alts });
        }
    }
    Ok(())
}

/// Splits a run of anonymous enum values into one contiguous segment per property, in
/// property order: a segment starts with its property's sample value (the renderer samples
/// an enum with its first value), except for an open set (`str | Literal[...]`), whose
/// sample is the plain string's placeholder. Of the splits that fit, the one that gives the
/// most properties an enum wins.
fn segment_enums(
    values: &[Value],
    candidates: &[(usize, bool)],
    samples: &[Option<&Value>],
) -> Option<Vec<(usize, std::ops::Range<usize>)>> {
    fn go(
        start: usize,
        cand: usize,
        values: &[Value],
        candidates: &[(usize, bool)],
        samples: &[Option<&Value>],
    ) -> Option<Vec<(usize, std::ops::Range<usize>)>> {
        if start == values.len() {
            return Some(Vec::new());
        }
        let mut best: Option<Vec<(usize, std::ops::Range<usize>)>> = None;
        for c in cand..candidates.len() {
            let (prop, open_set) = candidates[c];
            let fits = samples[c] == Some(&values[start])
                || (open_set && samples[c].is_some_and(|s| s == "string"));
            if !fits {
                continue;
            }
            for end in start + 1..=values.len() {
                if let Some(mut rest) = go(end, c + 1, values, candidates, samples)
                    && best.as_ref().is_none_or(|b| b.len() < rest.len() + 1)
                {
                    rest.insert(0, (prop, start..end));
                    best = Some(rest);
                }
            }
        }
        best
    }
    go(0, 0, values, candidates, samples)
}

/// Attaches the rows of a schema's enum table to its properties. Rows name the property,
/// or say `*anonymous*` for an enum alternative inside a property's `anyOf`; such a group
/// goes to the one string alternative whose sample value is the group's first value (the
/// renderer samples an enum with its first value).
fn assign_enums(name: &str, props: &mut [Prop], rows: &[Row], sample: &Value) -> Result<()> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some((g, values)) if *g == r.cells[0] => values.push(json!(r.cells[1])),
            _ => groups.push((r.cells[0].clone(), vec![json!(r.cells[1])])),
        }
    }
    for (group, values) in groups {
        if group == "*anonymous*" {
            // Consecutive anonymous enums of several properties run together in one table;
            // split them where a value is the sample of the next property that can take one.
            let plain_strings = |p: &Prop| {
                p.schema["anyOf"].as_array().map_or(0, |alts| {
                    alts.iter()
                        .filter(|a| a["type"] == "string" && a.get("enum").is_none())
                        .count()
                })
            };
            let candidates: Vec<(usize, bool)> = (0..props.len())
                .filter(|&k| plain_strings(&props[k]) > 0)
                .map(|k| (k, plain_strings(&props[k]) >= 2))
                .collect();
            let samples: Vec<Option<&Value>> = candidates
                .iter()
                .map(|(k, _)| sample.get(&props[*k].name))
                .collect();
            let segments = segment_enums(&values, &candidates, &samples).with_context(|| {
                format!(
                    "{name}: cannot tell which properties the anonymous enum {values:?} belongs to"
                )
            })?;
            for (k, range) in segments {
                let alts = props[k].schema["anyOf"]
                    .as_array_mut()
                    .expect("candidates have anyOf");
                // In `str | Literal[...]` the plain string stays (an open set); the enum goes
                // to the last string alternative.
                let target = alts
                    .iter()
                    .rposition(|a| a["type"] == "string" && a.get("enum").is_none())
                    .expect("candidates have a string alternative");
                alts[target]["enum"] = Value::Array(values[range].to_vec());
            }
        } else {
            let prop = props
                .iter_mut()
                .find(|p| p.name == group)
                .with_context(|| format!("{name}: enum for unknown property `{group}`"))?;
            if prop.schema["type"] == "string" {
                prop.schema["enum"] = Value::Array(values);
            } else if let Some(alts) = prop.schema["anyOf"].as_array_mut()
                && let Some(a) = alts.iter_mut().find(|a| a["type"] == "string")
            {
                a["enum"] = Value::Array(values);
            } else {
                bail!("{name}: enum for `{group}`, which is not a string");
            }
        }
    }
    Ok(())
}
