//! GTO's tag grammar: `<name>@v<semver>` registers a version (`…!` deregisters it),
//! `<name>#<stage>#<n>` assigns a stage, `<name>#<stage>!#<n>` unassigns one,
//! `<name>@deprecated` deprecates the artifact; and the one rule for names.

use super::{RegistryError, Version};

/// What a tag says, in GTO's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Register(Version),
    Deregister(Version),
    Assign(String),
    Unassign(String),
    Deprecate,
    Create,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTag {
    pub artifact: String,
    pub action: Action,
    pub counter: Option<u64>,
}

/// The one rule for artifact and stage names, in `mlv.toml` and every registry command:
/// GTO's `[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?` (gto 1.10 `constants.name`), less
/// `//`, which GTO's pattern allows but git refuses in a tag name.
pub fn is_name(s: &str) -> bool {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    ends_ok(s.chars().next())
        && ends_ok(s.chars().last())
        && !s.contains("//")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_'))
}

/// Why `s` is not a name by [`is_name`]: the same words wherever a name is refused.
pub fn bad_name(s: &str) -> String {
    format!(
        "`{s}` is not a valid registry name: GTO allows letters, digits, `-`, `_` and `/` (not two `/` in a row), starting and ending with a letter or digit"
    )
}

pub fn check_name(s: &str) -> Result<(), RegistryError> {
    if is_name(s) {
        Ok(())
    } else {
        Err(RegistryError::BadName(s.to_string()))
    }
}

/// Parses a tag name; `None` when it is not a registry tag.
pub fn parse_tag(tag: &str) -> Option<ParsedTag> {
    let at = tag.find(['#', '@'])?;
    let artifact = &tag[..at];
    // GTO writes `dir:name` artifacts as `dir=name` in tags.
    if !artifact.split('=').all(|p| !p.is_empty()) || !is_name(artifact.rsplit('=').next()?) {
        return None;
    }
    let rest = &tag[at + 1..];
    let (body, counter) = match rest.rsplit_once('#') {
        Some((b, n)) => {
            if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (b, Some(n.parse().ok()?))
        }
        None => (rest, None),
    };
    let (body, cancel) = match body.strip_suffix('!') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let action = if tag.as_bytes()[at] == b'@' {
        match body {
            "deprecated" if !cancel => Action::Deprecate,
            "created" if !cancel => Action::Create,
            v if v.starts_with('v') => {
                let v = Version::parse(v).ok()?;
                if cancel {
                    Action::Deregister(v)
                } else {
                    Action::Register(v)
                }
            }
            _ => return None,
        }
    } else {
        if !is_name(body) {
            return None;
        }
        if cancel {
            Action::Unassign(body.to_string())
        } else {
            Action::Assign(body.to_string())
        }
    };
    Some(ParsedTag {
        artifact: artifact.to_string(),
        action,
        counter,
    })
}

impl Action {
    /// The event's name, as `which --tag` reports it.
    pub fn event(&self) -> &'static str {
        match self {
            Action::Register(_) => "register",
            Action::Deregister(_) => "deregister",
            Action::Assign(_) => "assign",
            Action::Unassign(_) => "unassign",
            Action::Deprecate => "deprecate",
            Action::Create => "create",
        }
    }
}

/// `<name>@v<semver>`.
pub fn version_tag(name: &str, v: &Version) -> String {
    format!("{name}@{v}")
}

/// `<name>#<stage>#<n>`, or `<name>#<stage>!#<n>` to unassign.
pub fn stage_tag(name: &str, stage: &str, counter: u64, unassign: bool) -> String {
    let bang = if unassign { "!" } else { "" };
    format!("{name}#{stage}{bang}#{counter}")
}

/// A typed `<name>@<version>`.
pub fn parse_version_ref(s: &str) -> Result<(String, Version), RegistryError> {
    let (name, v) = s
        .split_once('@')
        .ok_or_else(|| RegistryError::BadReference(s.to_string()))?;
    check_name(name)?;
    Ok((name.to_string(), Version::parse(v)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_grammar_round_trips() {
        let v = Version::parse("1.2.0").unwrap();
        assert_eq!(version_tag("model", &v), "model@v1.2.0");
        assert_eq!(stage_tag("model", "prod", 3, false), "model#prod#3");
        assert_eq!(
            parse_tag("model#prod!#4").unwrap().action,
            Action::Unassign("prod".into())
        );
        assert_eq!(parse_tag("model#prod#4").unwrap().counter, Some(4));
        assert_eq!(
            parse_tag("model@v1.2.0-rc.1+b5").unwrap().action,
            Action::Register(Version::parse("1.2.0-rc.1+b5").unwrap())
        );
        assert_eq!(parse_tag("model@v1.2.0!").unwrap().counter, None);
        assert_eq!(
            parse_tag("model@deprecated").unwrap().action,
            Action::Deprecate
        );
        for bad in [
            "v1.0",
            "model@1.2.0",
            "model#",
            "model#prod#x",
            "#prod#1",
            "model@v01.0.0",
        ] {
            assert_eq!(parse_tag(bad), None, "{bad}");
        }
        assert!(!is_name("my.model") && !is_name("-m") && is_name("nlp/model_2"));
        assert!(!is_name("nlp//model") && !is_name("model/") && is_name("m"));
    }
}
