//! Splitting an amount in proportion to weights so the shares sum exactly (largest remainder).
//!
//! Used for service allocations of a fixed line and for spreading a discount over the items it
//! covers. Everything is done in integer minor units: each share is rounded toward zero, then
//! the leftover units go one each to the largest remainders (ties: input order). The products
//! can exceed 128 bits for hostile inputs, so the multiply-divide is done in 256 bits.

/// Splits `total` (minor units) in proportion to `weights`. `None` when the weights sum beyond
/// `u128` or are all zero while `total` is not (nothing to split over).
pub fn allocate(total: u128, weights: &[u128]) -> Option<Vec<u128>> {
    let sum = weights
        .iter()
        .try_fold(0u128, |acc, &w| acc.checked_add(w))?;
    if sum == 0 {
        return (total == 0).then(|| vec![0; weights.len()]);
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for &w in weights {
        let (q, r) = mul_div_rem(total, w, sum);
        shares.push(q);
        remainders.push(r);
    }
    // Each share is at most total·w/sum, so their sum is at most total: no overflow.
    let assigned = shares
        .iter()
        .try_fold(0u128, |acc, &s| acc.checked_add(s))?;
    let leftover = usize::try_from(total.checked_sub(assigned)?).ok()?;
    if leftover > 0 {
        // Only the `leftover` largest remainders matter: a partial selection keeps a discount
        // spread over many thousands of items linear. The order is total (ties by index).
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.select_nth_unstable_by(leftover - 1, |&a, &b| {
            remainders[b].cmp(&remainders[a]).then(a.cmp(&b))
        });
        for &i in order.iter().take(leftover) {
            shares[i] += 1;
        }
    }
    Some(shares)
}

/// `(a·b / c, a·b mod c)` exactly, for `b ≤ c` and `c > 0` (so the quotient fits in `a`).
fn mul_div_rem(a: u128, b: u128, c: u128) -> (u128, u128) {
    if let Some(p) = a.checked_mul(b) {
        return (p / c, p % c);
    }
    let (hi, lo) = wide_mul(a, b);
    let mut q: u128 = 0;
    let mut r: u128 = 0;
    for i in (0..256u32).rev() {
        let bit = if i >= 128 {
            (hi >> (i - 128)) & 1
        } else {
            (lo >> i) & 1
        };
        let carry = r >> 127;
        r = (r << 1) | bit;
        q <<= 1;
        // With the carry the true remainder is 2^128 + r, which exceeds c; the wrapping
        // subtraction then yields the right value because the result is below c.
        if carry == 1 || r >= c {
            r = r.wrapping_sub(c);
            q |= 1;
        }
    }
    (q, r)
}

/// The 256-bit product of two `u128`s as (high, low) halves.
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a_hi, a_lo) = (a >> 64, a & MASK);
    let (b_hi, b_lo) = (b >> 64, b & MASK);
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let (mid, mid_carry) = lh.overflowing_add(hl);
    let (lo, lo_carry) = ll.overflowing_add(mid << 64);
    let hi = hh + (mid >> 64) + (u128::from(mid_carry) << 64) + u128::from(lo_carry);
    (hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_500_over_10000_and_30000() {
        assert_eq!(
            allocate(50_000, &[10_000, 30_000]),
            Some(vec![12_500, 37_500])
        );
    }

    #[test]
    fn leftover_goes_to_largest_remainders_ties_in_input_order() {
        assert_eq!(allocate(100, &[1, 1, 1]), Some(vec![34, 33, 33]));
        assert_eq!(allocate(2, &[1, 1, 1]), Some(vec![1, 1, 0]));
        assert_eq!(allocate(10, &[1, 2]), Some(vec![3, 7]));
        assert_eq!(allocate(0, &[0, 0]), Some(vec![0, 0]));
        assert_eq!(allocate(5, &[0, 0]), None);
        assert_eq!(allocate(5, &[u128::MAX, 1]), None);
    }

    #[test]
    fn wide_path_matches_narrow_path() {
        let a = u128::from(u64::MAX) * 1_000_003;
        let b = u128::from(u64::MAX) * 999;
        let c = b * 7 + 5;
        let (q, r) = mul_div_rem(a, b, c);
        // q·c + r == a·b, checked in 256 bits.
        let (ph, pl) = wide_mul(q, c);
        let (pl, carry) = pl.overflowing_add(r);
        let ph = ph + u128::from(carry);
        assert_eq!((ph, pl), wide_mul(a, b));
        assert!(r < c);
        assert_eq!(mul_div_rem(7, 3, 4), (5, 1));
        assert_eq!(wide_mul(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
    }
}
