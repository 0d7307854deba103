//! Versions as GTO reads them: SemVer, written with a `v`, ordered by SemVer precedence.

use super::RegistryError;

/// A semantic version, as GTO accepts them (`v` prefix optional when typed), ordered by
/// SemVer precedence as GTO orders them: numeric pre-release parts compare as numbers
/// (`rc.2` < `rc.10`), and a pre-release sorts before its release.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(semver::Version);

impl Version {
    pub fn parse(s: &str) -> Result<Version, RegistryError> {
        let t = s.strip_prefix('v').unwrap_or(s);
        semver::Version::parse(t)
            .map(Version)
            .map_err(|_| RegistryError::BadVersion(s.to_string()))
    }

    /// The next patch version, as `gto register` bumps it: `v1.2.3` → `v1.2.4`, and
    /// `v1.3.0-rc.1` → `v1.3.1` (the pre-release and build are dropped, the patch still
    /// goes up).
    pub fn next_patch(&self) -> Version {
        Version(semver::Version::new(
            self.0.major,
            self.0.minor,
            self.0.patch + 1,
        ))
    }

    /// `v0.0.1`, the first version `gto register` gives an artifact.
    pub fn first() -> Version {
        Version(semver::Version::new(0, 0, 1))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order_as_gto_does() {
        let v = Version::parse("1.2.0").unwrap();
        assert_eq!(v, Version::parse("v1.2.0").unwrap());
        assert_eq!(
            Version::parse("1.2.3").unwrap().next_patch().to_string(),
            "v1.2.4"
        );
        assert!(Version::parse("1.0.0-rc1").unwrap() < Version::parse("1.0.0").unwrap());
        // SemVer precedence: numeric pre-release parts compare as numbers.
        assert!(Version::parse("1.0.0-rc.2").unwrap() < Version::parse("1.0.0-rc.10").unwrap());
        assert!(Version::parse("1.0.0-alpha").unwrap() < Version::parse("1.0.0-alpha.1").unwrap());
        // As `gto register` bumps: the patch goes up even from a pre-release.
        assert_eq!(
            Version::parse("1.3.0-rc.1")
                .unwrap()
                .next_patch()
                .to_string(),
            "v1.3.1"
        );
        assert_eq!(
            Version::parse("v1.2.0-rc.1+b5").unwrap().to_string(),
            "v1.2.0-rc.1+b5"
        );
        assert!(Version::parse("1.10.0").unwrap() > Version::parse("1.9.0").unwrap());
    }
}
