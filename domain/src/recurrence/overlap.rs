//! Which occurrences of two series overlap in time: the conflict check of every schedule write.

use chrono::{DateTime, Utc};

/// A span of real time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The pairs `(i, j)` where `mine[i]` and `theirs[j]` overlap (touching ends do not). Each list
/// must be in ascending order of start with one duration throughout (one series' occurrences),
/// so ends ascend too and one pass over each suffices.
pub fn overlapping(mine: &[Span], theirs: &[Span]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut first = 0;
    for (i, m) in mine.iter().enumerate() {
        while first < theirs.len() && theirs[first].end <= m.start {
            first += 1;
        }
        for (j, t) in theirs.iter().enumerate().skip(first) {
            if t.start >= m.end {
                break;
            }
            out.push((i, j));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use proptest::prelude::*;

    fn spans(starts: &[i64], minutes: i64) -> Vec<Span> {
        let base = DateTime::<Utc>::UNIX_EPOCH;
        starts
            .iter()
            .map(|s| Span {
                start: base + TimeDelta::minutes(*s),
                end: base + TimeDelta::minutes(s + minutes),
            })
            .collect()
    }

    #[test]
    fn touching_is_not_overlapping() {
        assert!(overlapping(&spans(&[0], 60), &spans(&[60], 30)).is_empty());
        assert_eq!(overlapping(&spans(&[0], 61), &spans(&[60], 30)), [(0, 0)]);
        assert_eq!(overlapping(&spans(&[30], 10), &spans(&[0], 120)), [(0, 0)]);
    }

    proptest! {
        #[test]
        fn the_sweep_finds_exactly_the_pairs_a_full_comparison_finds(
            mut a in proptest::collection::vec(0i64..2_000, 0..30), da in 1i64..200,
            mut b in proptest::collection::vec(0i64..2_000, 0..30), db in 1i64..200,
        ) {
            a.sort_unstable();
            b.sort_unstable();
            let (mine, theirs) = (spans(&a, da), spans(&b, db));
            let mut all = Vec::new();
            for (i, m) in mine.iter().enumerate() {
                for (j, t) in theirs.iter().enumerate() {
                    if m.start < t.end && t.start < m.end {
                        all.push((i, j));
                    }
                }
            }
            prop_assert_eq!(overlapping(&mine, &theirs), all);
        }
    }
}
