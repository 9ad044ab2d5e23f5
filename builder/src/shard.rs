//! Sharded builds: `t8k build --shard I/N` on N CI runners, each building its part.

use sha2::{Digest, Sha256};

/// `--shard I/N`: the tenants whose id hashes to I (1-based) of N buckets. The hash is stable,
/// so the same tenant always lands on the same CI runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: write it as I/N with 1 ≤ I ≤ N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, id: &str) -> bool {
        let h = Sha256::digest(id.as_bytes());
        let n = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
        n % self.count == self.index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_tenants() {
        let ids: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|i| Shard { index: i, count: 4 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.contains(id)).count(), 1);
        }
        assert!(
            shards
                .iter()
                .all(|s| ids.iter().filter(|id| s.contains(id)).count() > 20)
        );
        assert!(
            Shard::parse("0/4").is_err()
                && Shard::parse("5/4").is_err()
                && Shard::parse("x").is_err()
        );
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
    }
}
