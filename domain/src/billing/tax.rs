//! Tax per region and component: flat rates, progressive brackets, compounding.
//!
//! A region's base is what its taxable lines bill after their discount shares; each component
//! is rounded up once, and a compound component is levied on the base plus the (rounded) tax of
//! the region's earlier components, as Canadian PST on GST once was.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::decimal::round_up;
use super::error::InputError;
use super::input::{Bracket, Tax, TaxRate};
use super::response::{Amount, TaxRow};

/// The taxable part of one line item: its region (when its line is taxable and has one) and
/// its amount less its discount shares.
pub struct TaxableItem<'a> {
    pub region: Option<&'a str>,
    pub net: Decimal,
}

pub fn tax_rows(tax: &Tax, items: &[TaxableItem<'_>], m: u32) -> Result<Vec<TaxRow>, InputError> {
    if tax.exempt || tax.reverse_charge {
        return Ok(Vec::new());
    }
    let mut bases: HashMap<&str, Decimal> = HashMap::new();
    for item in items {
        if let Some(region) = item.region {
            let base = bases.entry(region).or_default();
            *base = base
                .checked_add(item.net)
                .ok_or_else(|| InputError::too_large(format!("tax.regions.{region}")))?;
        }
    }
    let mut rows = Vec::new();
    for (region, components) in &tax.regions {
        let base = bases.get(region.as_str()).copied().unwrap_or_default();
        if base <= Decimal::ZERO {
            continue;
        }
        let mut earlier = Decimal::ZERO;
        for (j, c) in components.iter().enumerate() {
            let too_large = || InputError::too_large(format!("tax.regions.{region}[{j}]"));
            let component_base = if c.compound {
                base.checked_add(earlier).ok_or_else(too_large)?
            } else {
                base
            };
            let raw = match &c.rate {
                TaxRate::Flat(rate) => percent_of(component_base, *rate),
                TaxRate::Brackets(brackets) => progressive(component_base, brackets),
            }
            .ok_or_else(too_large)?;
            let amount = round_up(raw, m);
            earlier = earlier.checked_add(amount).ok_or_else(too_large)?;
            rows.push(TaxRow {
                region: region.clone(),
                name: c.name.clone(),
                base: Amount::new(component_base, m),
                amount: Amount::new(amount, m),
            });
        }
    }
    Ok(rows)
}

fn percent_of(base: Decimal, rate: Decimal) -> Option<Decimal> {
    base.checked_mul(rate)?.checked_div(Decimal::ONE_HUNDRED)
}

/// Each bracket's part of the base at its rate, unrounded. Bounds are inclusive upper bounds
/// in major units; the last is open.
pub fn progressive(base: Decimal, brackets: &[Bracket]) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    let mut lower = Decimal::ZERO;
    for b in brackets {
        let upper = b.up_to.map_or(base, |up| up.min(base));
        if upper > lower {
            sum = sum.checked_add(percent_of(upper.checked_sub(lower)?, b.rate)?)?;
        }
        match b.up_to {
            Some(up) if up < base => lower = up,
            _ => break,
        }
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::input::TaxComponent;
    use std::collections::BTreeMap;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn flat(name: &str, rate: &str, compound: bool) -> TaxComponent {
        TaxComponent {
            name: name.into(),
            compound,
            rate: TaxRate::Flat(d(rate)),
        }
    }

    fn tax(regions: Vec<(&str, Vec<TaxComponent>)>) -> Tax {
        Tax {
            exempt: false,
            reverse_charge: false,
            regions: regions
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn one(region: &str, net: &str) -> Vec<TaxableItem<'static>> {
        let region: &'static str = Box::leak(region.to_owned().into_boxed_str());
        vec![TaxableItem {
            region: Some(region),
            net: d(net),
        }]
    }

    fn amounts(rows: &[TaxRow]) -> Vec<Decimal> {
        rows.iter().map(|r| r.amount.value).collect()
    }

    #[test]
    fn golden_8_875_percent_rounds_up() {
        let t = tax(vec![("NY", vec![flat("sales", "8.875", false)])]);
        assert_eq!(
            amounts(&tax_rows(&t, &one("NY", "100.00"), 2).unwrap()),
            vec![d("8.88")]
        );
        // Round up, not half away: 0.001 over a cent still costs the cent.
        let t = tax(vec![("X", vec![flat("x", "1", false)])]);
        assert_eq!(
            amounts(&tax_rows(&t, &one("X", "100.10"), 2).unwrap()),
            vec![d("1.01")]
        );
    }

    #[test]
    fn golden_gst_then_compound_pst() {
        let t = tax(vec![(
            "QC",
            vec![flat("GST", "5", false), flat("PST", "2", true)],
        )]);
        let rows = tax_rows(&t, &one("QC", "100.00"), 2).unwrap();
        assert_eq!(amounts(&rows), vec![d("5.00"), d("2.10")]);
        assert_eq!(rows[1].base.value, d("105.00"));
        let t = tax(vec![(
            "QC",
            vec![flat("GST", "5", false), flat("PST", "2", false)],
        )]);
        let rows = tax_rows(&t, &one("QC", "100.00"), 2).unwrap();
        assert_eq!(amounts(&rows).iter().sum::<Decimal>(), d("7.00"));
    }

    #[test]
    fn golden_brackets() {
        let brackets = vec![
            Bracket {
                up_to: Some(d("1000.00")),
                rate: d("5"),
            },
            Bracket {
                up_to: None,
                rate: d("10"),
            },
        ];
        assert_eq!(progressive(d("1500.00"), &brackets), Some(d("100")));
        assert_eq!(progressive(d("800"), &brackets), Some(d("40")));
        assert_eq!(progressive(d("1000"), &brackets), Some(d("50")));
        let t = tax(vec![(
            "B",
            vec![TaxComponent {
                name: "b".into(),
                compound: false,
                rate: TaxRate::Brackets(brackets),
            }],
        )]);
        assert_eq!(
            amounts(&tax_rows(&t, &one("B", "1500.00"), 2).unwrap()),
            vec![d("100.00")]
        );
    }

    #[test]
    fn no_rows_for_non_positive_bases_exemption_or_reverse_charge() {
        let t = tax(vec![
            ("A", vec![flat("a", "10", false)]),
            ("B", vec![flat("b", "10", false)]),
        ]);
        let items = vec![
            TaxableItem {
                region: Some("A"),
                net: d("0"),
            },
            TaxableItem {
                region: Some("B"),
                net: d("10"),
            },
            TaxableItem {
                region: None,
                net: d("1000"),
            },
        ];
        let rows = tax_rows(&t, &items, 2).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].region, "B");
        let mut exempt = t.clone();
        exempt.exempt = true;
        assert!(tax_rows(&exempt, &items, 2).unwrap().is_empty());
        let mut rc = t;
        rc.reverse_charge = true;
        assert!(tax_rows(&rc, &items, 2).unwrap().is_empty());
    }
}
