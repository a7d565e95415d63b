//! Filters indexed by what an offer must have to match them, so that a new
//! offer is checked against the filters that may match it rather than
//! against all of them: a filter by occupation is found by the offer's ROME
//! codes, one by commune by its commune, one around a place by the cell of
//! a grid its circle covers, one by département by its département; only
//! filters with none of these are checked against every offer.

use std::hash::Hash;

use passerelle_schema::{GeoPoint, Near, Offer};
use rustc_hash::FxHashMap;

use crate::domain::offers::OfferFilter;

/// A cell of the grid filters around a place are indexed by: a quarter of
/// a degree of latitude (28 km) by 0.35° of longitude (25 km in Normandy).
type Cell = (i32, i32);

const CELL_LAT: f64 = 0.25;
const CELL_LON: f64 = 0.35;

fn cell(p: GeoPoint) -> Cell {
    (
        (p.latitude / CELL_LAT).floor() as i32,
        (p.longitude / CELL_LON).floor() as i32,
    )
}

/// The cells a circle's bounding box covers.
fn cells(near: &Near) -> impl Iterator<Item = Cell> {
    let c = near.centre;
    let dlat = near.radius_km / 111.0;
    let dlon = near.radius_km / (111.32 * c.latitude.to_radians().cos().max(0.01));
    let corner = |lat: f64, lon: f64| {
        cell(GeoPoint {
            latitude: lat.clamp(-90.0, 90.0),
            longitude: lon,
        })
    };
    let (lo, hi) = (
        corner(c.latitude - dlat, c.longitude - dlon),
        corner(c.latitude + dlat, c.longitude + dlon),
    );
    (lo.0..=hi.0).flat_map(move |a| (lo.1..=hi.1).map(move |b| (a, b)))
}

/// Where a filter is indexed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Rome(String),
    Commune(String),
    Cell(Cell),
    Departement(String),
    Everywhere,
}

fn buckets(f: &OfferFilter) -> Vec<Bucket> {
    if !f.rome.is_empty() {
        f.rome.iter().map(|r| Bucket::Rome(r.to_string())).collect()
    } else if let Some(c) = &f.commune {
        vec![Bucket::Commune(c.to_string())]
    } else if let Some(n) = &f.near {
        cells(n).map(Bucket::Cell).collect()
    } else if let Some(d) = &f.departement {
        vec![Bucket::Departement(d.to_string())]
    } else {
        vec![Bucket::Everywhere]
    }
}

/// Filters by key, indexed. Filters sit in slots (reused as they are
/// removed), the buckets naming slots, so that a check reads a vector.
#[derive(Debug)]
pub struct FilterIndex<K> {
    slots: Vec<Option<(K, OfferFilter)>>,
    free: Vec<u32>,
    by_key: FxHashMap<K, u32>,
    buckets: FxHashMap<Bucket, Vec<u32>>,
}

impl<K> Default for FilterIndex<K> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_key: FxHashMap::default(),
            buckets: FxHashMap::default(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> FilterIndex<K> {
    /// Indexes `filter` under `key`, replacing the filter it had.
    pub fn insert(&mut self, key: K, filter: OfferFilter) {
        self.remove(key);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        for b in buckets(&filter) {
            self.buckets.entry(b).or_default().push(slot);
        }
        self.slots[slot as usize] = Some((key, filter));
        self.by_key.insert(key, slot);
    }

    /// Removes the filter under `key`.
    pub fn remove(&mut self, key: K) {
        let Some(slot) = self.by_key.remove(&key) else {
            return;
        };
        let Some((_, filter)) = self.slots[slot as usize].take() else {
            return;
        };
        for b in buckets(&filter) {
            if let Some(slots) = self.buckets.get_mut(&b) {
                if let Some(i) = slots.iter().position(|s| *s == slot) {
                    slots.swap_remove(i);
                }
                if slots.is_empty() {
                    self.buckets.remove(&b);
                }
            }
        }
        self.free.push(slot);
    }

    /// How many filters.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The keys of the filters `offer` matches, each once, in key order.
    pub fn matching(&self, offer: &Offer) -> Vec<K> {
        let commune = &offer.location.commune;
        let position = commune.position();
        let mut out: Vec<K> = Vec::new();
        let mut check = |b: Bucket| {
            for &slot in self.buckets.get(&b).map_or(&[][..], Vec::as_slice) {
                if let Some((key, filter)) = &self.slots[slot as usize] {
                    if filter.matches_at(offer, position) {
                        out.push(*key);
                    }
                }
            }
        };
        for r in &offer.rome_codes {
            check(Bucket::Rome(r.to_string()));
        }
        check(Bucket::Commune(commune.to_string()));
        if let Some(p) = position {
            check(Bucket::Cell(cell(p)));
        }
        check(Bucket::Departement(commune.departement_code().to_owned()));
        check(Bucket::Everywhere);
        // A filter of several occupations the offer has is found twice.
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use passerelle_schema::{Departement, InseeCommune, RomeCode};

    use super::*;

    #[test]
    fn an_offer_matches_through_the_index_what_it_matches_alone() {
        let communes = [
            "14118", "76540", "50129", "61001", "27229", "14762", "76351",
        ];
        let romes = ["D1102", "F1610", "G1602", "H2909"];
        let mut filters = Vec::new();
        for (i, c) in communes.iter().enumerate() {
            let commune = InseeCommune::parse(c).unwrap();
            filters.push(OfferFilter {
                departement: Some(commune.departement()),
                ..Default::default()
            });
            filters.push(OfferFilter {
                commune: Some(commune.clone()),
                rome: vec![RomeCode::parse(romes[i % 4]).unwrap()],
                ..Default::default()
            });
            for radius_km in [5.0, 40.0, 150.0] {
                filters.push(OfferFilter {
                    near: Some(Near {
                        centre: commune.position().unwrap(),
                        radius_km,
                    }),
                    ..Default::default()
                });
            }
        }
        filters.push(OfferFilter::default());
        filters.push(OfferFilter {
            rome: romes.iter().map(|r| RomeCode::parse(r).unwrap()).collect(),
            departement: Some(Departement::parse("14").unwrap()),
            ..Default::default()
        });
        let mut index = FilterIndex::default();
        for (k, f) in (0u32..).zip(&filters) {
            index.insert(k, f.clone());
        }
        // Removed and added again: slots are reused.
        index.remove(3);
        index.insert(3, filters[3].clone());
        assert_eq!(index.len(), filters.len());
        let mut offer = crate::partners::packed::tests::offer();
        for c in communes {
            for r in [vec!["D1102"], vec!["F1610", "G1602"], vec![]] {
                offer.location.commune = InseeCommune::parse(c).unwrap();
                offer.rome_codes = r.iter().map(|r| RomeCode::parse(r).unwrap()).collect();
                let wanted: Vec<u32> = (0u32..)
                    .zip(&filters)
                    .filter(|(_, f)| f.matches(&offer))
                    .map(|(k, _)| k)
                    .collect();
                assert_eq!(index.matching(&offer), wanted, "{c} {r:?}");
            }
        }
    }

    #[test]
    fn every_cell_a_circle_reaches_is_covered() {
        // Points on the circle and inside it fall in the cells indexed.
        let centre = GeoPoint::new(49.18, -0.37).unwrap();
        for radius_km in [1.0, 12.5, 60.0, 200.0] {
            let near = Near { centre, radius_km };
            let covered: Vec<Cell> = cells(&near).collect();
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                for share in [0.0, 0.5, 0.999] {
                    let d = radius_km * share / 6371.0;
                    let (la, lo) = (centre.latitude.to_radians(), centre.longitude.to_radians());
                    let lat = (la.sin() * d.cos() + la.cos() * d.sin() * bearing.cos()).asin();
                    let lon = lo
                        + (bearing.sin() * d.sin() * la.cos())
                            .atan2(d.cos() - la.sin() * lat.sin());
                    let p = GeoPoint::new(lat.to_degrees(), lon.to_degrees()).unwrap();
                    assert!(covered.contains(&cell(p)), "{radius_km} km, {step}°");
                }
            }
        }
    }
}
