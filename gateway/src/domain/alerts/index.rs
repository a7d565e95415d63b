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

/// Filters by key, indexed.
#[derive(Debug)]
pub struct FilterIndex<K> {
    filters: FxHashMap<K, OfferFilter>,
    buckets: FxHashMap<Bucket, Vec<K>>,
}

impl<K> Default for FilterIndex<K> {
    fn default() -> Self {
        Self {
            filters: FxHashMap::default(),
            buckets: FxHashMap::default(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> FilterIndex<K> {
    /// Indexes `filter` under `key`, replacing the filter it had.
    pub fn insert(&mut self, key: K, filter: OfferFilter) {
        self.remove(key);
        for b in buckets(&filter) {
            self.buckets.entry(b).or_default().push(key);
        }
        self.filters.insert(key, filter);
    }

    /// Removes the filter under `key`.
    pub fn remove(&mut self, key: K) {
        let Some(filter) = self.filters.remove(&key) else {
            return;
        };
        for b in buckets(&filter) {
            if let Some(keys) = self.buckets.get_mut(&b) {
                if let Some(i) = keys.iter().position(|k| *k == key) {
                    keys.swap_remove(i);
                }
                if keys.is_empty() {
                    self.buckets.remove(&b);
                }
            }
        }
    }

    /// How many filters.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// The keys of the filters `offer` matches, each once, in key order.
    pub fn matching(&self, offer: &Offer) -> Vec<K> {
        let mut candidates: Vec<K> = Vec::new();
        let mut take = |b: Bucket| {
            if let Some(keys) = self.buckets.get(&b) {
                candidates.extend_from_slice(keys);
            }
        };
        for r in &offer.rome_codes {
            take(Bucket::Rome(r.to_string()));
        }
        let commune = &offer.location.commune;
        take(Bucket::Commune(commune.to_string()));
        if let Some(p) = commune.position() {
            take(Bucket::Cell(cell(p)));
        }
        take(Bucket::Departement(commune.departement_code().to_owned()));
        take(Bucket::Everywhere);
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|k| self.filters[k].matches(offer));
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
