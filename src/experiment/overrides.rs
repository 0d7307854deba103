//! `-S [file:]key=value[,value…]`: what an override names, the experiments a sweep expands
//! to (the cross product of every override's values), and the edit it makes to a params
//! file: TOML edited in place (formatting and comments kept), YAML and JSON rewritten.

use crate::problem::{usage, usage_with_hint};
use std::collections::BTreeMap;

/// One `-S` argument as typed: the file when named, the dotted key, each value of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub file: Option<String>,
    pub key: String,
    pub values: Vec<String>,
}

/// One key set to one value in one params file (a repository path): an experiment is a
/// list of them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    pub file: String,
    pub key: String,
    pub value: String,
}

impl Override {
    pub fn parse(arg: &str) -> anyhow::Result<Override> {
        let hint = "write `-S key=value`, `-S file:key=value`, or `-S key=a,b,c` for a sweep";
        let Some((target, values)) = arg.split_once('=') else {
            return Err(usage_with_hint(format!("`-S {arg}` has no `=`"), hint));
        };
        let (file, key) = match target.rsplit_once(':') {
            Some((file, key)) => (Some(file.to_string()), key),
            None => (None, target),
        };
        let key_ok = !key.is_empty() && key.split('.').all(|s| !s.trim().is_empty());
        if !key_ok || file.as_deref() == Some("") {
            return Err(usage_with_hint(
                format!("`-S {arg}` names no key (`file:` or a dotted key is empty)"),
                hint,
            ));
        }
        let values = split_values(values);
        if values.iter().any(String::is_empty) {
            return Err(usage_with_hint(
                format!("`-S {arg}` has an empty value"),
                hint,
            ));
        }
        Ok(Override {
            file,
            key: key.to_string(),
            values,
        })
    }
}

/// Values split at commas outside brackets, so `[1,2]` stays one list value.
fn split_values(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in s.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The file that holds `key` among the pipeline's params files, each given with all its
/// keys: exactly one must have it (or a table under it).
pub fn file_with_key<'a>(
    key: &str,
    files: &'a BTreeMap<crate::paths::RepoPath, crate::lockfile::ParamValues>,
) -> anyhow::Result<&'a str> {
    let prefix = format!("{key}.");
    let holders: Vec<&str> = files
        .iter()
        .filter(|(_, keys)| keys.keys().any(|k| k == key || k.starts_with(&prefix)))
        .map(|(f, _)| f.as_str())
        .collect();
    match holders.as_slice() {
        [one] => Ok(one),
        [] => Err(usage_with_hint(
            format!("no params file of the pipeline has the key `{key}`"),
            "name the file as `-S file:key=value`; the `params` of each stage in mlv.toml are the files searched",
        )),
        many => Err(usage_with_hint(
            format!(
                "the key `{key}` is in several params files: {}",
                many.iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "name the file as `-S file:key=value`",
        )),
    }
}

/// Every combination of the overrides' values (the cross product, in order), each a list
/// of assignments; `resolved` holds each override with its file decided.
pub fn expand(resolved: &[(String, Override)]) -> Vec<Vec<Assignment>> {
    let mut out: Vec<Vec<Assignment>> = vec![Vec::new()];
    for (file, ov) in resolved {
        out = out
            .into_iter()
            .flat_map(|done| {
                ov.values.iter().map(move |v| {
                    let mut next = done.clone();
                    next.push(Assignment {
                        file: file.clone(),
                        key: ov.key.clone(),
                        value: v.clone(),
                    });
                    next
                })
            })
            .collect();
    }
    out
}

/// A value as typed, read as TOML (`0.3`, `true`, `[1, 2]`, `"x"`) or else as a string.
fn typed(raw: &str) -> toml_edit::Value {
    raw.parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(raw))
}

/// The same value as a JSON tree, for YAML and JSON files.
fn typed_json(raw: &str) -> anyhow::Result<serde_json::Value> {
    let table: toml::Table = toml::from_str(&format!("v = {}", typed(raw)))?;
    Ok(serde_json::to_value(&table["v"])?)
}

/// `text` (the params file `file`, its format by extension as `pipeline::inputs` reads it)
/// with `a.key` set to `value`; missing tables are created.
pub fn apply(text: &str, a: &Assignment) -> anyhow::Result<String> {
    let ext = std::path::Path::new(&a.file)
        .extension()
        .and_then(|e| e.to_str());
    let invalid = |e: String| usage(format!("params file `{}` is not valid: {e}", a.file));
    let not_table = |seg: &str| {
        usage_with_hint(
            format!(
                "`-S {}:{}` goes through `{seg}`, which is not a table in `{}`",
                a.file, a.key, a.file
            ),
            "check the key's path in the file",
        )
    };
    let keys: Vec<&str> = a.key.split('.').collect();
    let (last, parents) = keys.split_last().expect("a parsed key has a segment");
    match ext {
        Some("json") | Some("yaml" | "yml") => {
            let json = ext == Some("json");
            let mut root: serde_json::Value = if json {
                serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?
            } else {
                serde_norway::from_str::<Option<serde_json::Value>>(text)
                    .map_err(|e| invalid(e.to_string()))?
                    .unwrap_or_else(|| serde_json::json!({}))
            };
            let mut node = &mut root;
            for seg in parents {
                node = node
                    .as_object_mut()
                    .ok_or_else(|| not_table(seg))?
                    .entry(seg.to_string())
                    .or_insert_with(|| serde_json::json!({}));
            }
            node.as_object_mut()
                .ok_or_else(|| not_table(last))?
                .insert(last.to_string(), typed_json(&a.value)?);
            Ok(match json {
                true => format!("{}\n", serde_json::to_string_pretty(&root)?),
                false => serde_norway::to_string(&root)?,
            })
        }
        _ => {
            let mut doc: toml_edit::DocumentMut = text
                .parse()
                .map_err(|e: toml_edit::TomlError| invalid(e.message().to_string()))?;
            let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
            for seg in parents {
                table = table
                    .entry(seg)
                    .or_insert(toml_edit::table())
                    .as_table_like_mut()
                    .ok_or_else(|| not_table(seg))?;
            }
            let mut value = typed(&a.value);
            // A replaced value keeps the spacing and comment around it.
            if let Some(old) = table.get(last).and_then(toml_edit::Item::as_value) {
                *value.decor_mut() = old.decor().clone();
            }
            table.insert(last, toml_edit::Item::Value(value));
            Ok(doc.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(file: &str, key: &str, value: &str) -> Assignment {
        Assignment {
            file: file.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn overrides_parse_files_keys_and_sweeps() {
        let o = Override::parse("p.yaml:train.lr=0.1,0.3").unwrap();
        assert_eq!(o.file.as_deref(), Some("p.yaml"));
        assert_eq!((o.key.as_str(), o.values.len()), ("train.lr", 2));
        assert_eq!(
            Override::parse("a=[1,2],[3]").unwrap().values,
            ["[1,2]", "[3]"]
        );
        for bad in ["a", "=1", ":a=1", "a..b=1", "a=1,"] {
            assert!(Override::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sweep_is_the_cross_product() {
        let a = Override::parse("a=1,2").unwrap();
        let b = Override::parse("b=x,y,z").unwrap();
        let all = expand(&[("p.toml".into(), a), ("p.toml".into(), b)]);
        assert_eq!(all.len(), 6);
        assert_eq!(all[1][1].value, "y");
    }

    #[test]
    fn edits_keep_toml_formatting_and_rewrite_yaml_and_json() {
        let toml = "# top\n[train]\nlr = 0.5 # rate\nepochs = 3\n";
        let out = apply(toml, &set("p.toml", "train.lr", "0.1")).unwrap();
        assert_eq!(out, "# top\n[train]\nlr = 0.1 # rate\nepochs = 3\n");
        let out = apply(toml, &set("p.toml", "model.kind", "tree")).unwrap();
        assert!(out.contains("[model]\nkind = \"tree\""), "{out}");
        let yaml = apply("train:\n  lr: 0.5\n", &set("p.yaml", "train.lr", "2")).unwrap();
        assert_eq!(yaml, "train:\n  lr: 2\n");
        let json = apply(r#"{"lr": 0.5}"#, &set("p.json", "lr", "true")).unwrap();
        assert_eq!(json, "{\n  \"lr\": true\n}\n");
        assert!(apply("lr = 1\n", &set("p.toml", "lr.x", "1")).is_err());
    }
}
