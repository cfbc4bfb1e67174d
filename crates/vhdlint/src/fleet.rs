//! Fleets: the image list of `check` (its arguments and `--from FILE`), split across machines
//! with `--shard K/N` or `--shard-from-env VAR` (K from an index variable such as Kubernetes'
//! `JOB_COMPLETION_INDEX`). Shard K of N is the K-th of N contiguous, near-equal slices of the
//! list in its own order (0-based), so the shards' reports, taken in shard order, list the
//! images in the order of the list.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Context as _, Result};

/// The most lines `--from` reads: a list longer than this is refused, not cut short.
pub const MAX_LIST_LINES: usize = 1_000_000;

/// The images named by `args` followed by those of `from` (one path or URL per line; blank
/// lines and lines whose first non-blank character is `#` are skipped; `-` reads stdin).
pub fn image_list(args: &[OsString], from: Option<&Path>) -> Result<Vec<OsString>> {
    let mut list: Vec<OsString> = args.to_vec();
    if let Some(path) = from {
        let text = if path == Path::new("-") {
            std::io::read_to_string(std::io::stdin()).context("--from -: reading stdin")?
        } else {
            std::fs::read_to_string(path).with_context(|| format!("--from {}", path.display()))?
        };
        for (i, line) in text.lines().enumerate() {
            if i >= MAX_LIST_LINES {
                bail!(
                    "--from {}: more than {MAX_LIST_LINES} lines (MAX_LIST_LINES)",
                    path.display()
                );
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            list.push(OsString::from(line));
        }
    }
    if list.is_empty() {
        bail!("no image: give IMAGE arguments or --from FILE");
    }
    Ok(list)
}

/// One shard of a list: the `index`-th (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// The shard asked for: `--shard K/N`, or `--shard N` with `--shard-from-env VAR` (K is the
/// variable's value); `None` without either.
pub fn shard(spec: Option<&str>, from_env: Option<&str>) -> Result<Option<Shard>> {
    let env_index = |var: &str| -> Result<usize> {
        let v = std::env::var(var)
            .with_context(|| format!("--shard-from-env {var}: the variable is not set"))?;
        v.trim().parse::<usize>().map_err(|_| {
            anyhow::anyhow!("--shard-from-env {var}: {v:?} is not a shard index (0, 1, 2…)")
        })
    };
    let (index, count) = match (spec, from_env) {
        (None, None) => return Ok(None),
        (None, Some(var)) => {
            bail!("--shard-from-env {var} needs the number of shards: --shard N (e.g. --shard 3)")
        }
        (Some(s), from_env) => {
            let number = |t: &str, what: &str| -> Result<usize> {
                t.trim()
                    .parse::<usize>()
                    .map_err(|_| anyhow::anyhow!("--shard {s}: {what} {t:?} is not a number"))
            };
            match (s.split_once('/'), from_env) {
                (Some(_), Some(var)) => bail!(
                    "--shard {s} with --shard-from-env {var}: give only the number of shards (--shard N); the index comes from {var}"
                ),
                (Some((k, n)), None) => (number(k, "the index")?, number(n, "the count")?),
                (None, Some(var)) => (env_index(var)?, number(s, "the count")?),
                (None, None) => bail!(
                    "--shard {s}: expected K/N (the K-th of N shards, 0-based), or N with --shard-from-env VAR"
                ),
            }
        }
    };
    if count == 0 {
        bail!("--shard: the number of shards must be at least 1");
    }
    if index >= count {
        bail!(
            "--shard: index {index} is not below the number of shards {count} (0-based: 0 to {})",
            count - 1
        );
    }
    Ok(Some(Shard { index, count }))
}

/// The part of `list` that is `shard`'s ([`vhdlint_report::Shard::range`]).
pub fn slice<T>(list: Vec<T>, shard: Shard) -> Vec<T> {
    let r = vhdlint_report::Shard::range(shard.index, shard.count, list.len());
    list.into_iter().skip(r.start).take(r.len()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_cover_the_list_once_in_order() {
        for len in 0..40 {
            for count in 1..12 {
                let list: Vec<usize> = (0..len).collect();
                let mut joined = Vec::new();
                let mut sizes = Vec::new();
                for index in 0..count {
                    let part = slice(list.clone(), Shard { index, count });
                    sizes.push(part.len());
                    joined.extend(part);
                }
                assert_eq!(joined, list, "{len} in {count}");
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(max - min <= 1, "{len} in {count}: {sizes:?}");
            }
        }
    }

    #[test]
    fn shard_specs() {
        assert_eq!(shard(None, None).unwrap(), None);
        assert_eq!(
            shard(Some("1/3"), None).unwrap(),
            Some(Shard { index: 1, count: 3 })
        );
        for bad in ["3/3", "0/0", "x/3", "1/y", "3", "-1/3"] {
            assert!(shard(Some(bad), None).is_err(), "{bad}");
        }
        assert!(shard(None, Some("VHDLINT_TEST_SHARD_UNSET")).is_err());
        assert!(shard(Some("1/3"), Some("VHDLINT_TEST_SHARD_UNSET")).is_err());
        assert!(shard(Some("3"), Some("VHDLINT_TEST_SHARD_SURELY_UNSET")).is_err());
    }
}
