//! Filters indexed by what an offer must have to match them, so that a new
//! offer is checked against the filters that may match it rather than
//! against all of them: a filter by occupation is found by the offer's ROME
//! codes, one by commune by its commune, one around a place by the cell of
//! a grid its circle covers, one by département by its département; only
//! filters with none of these are checked against every offer. Keys with
//! the same filter are checked once.

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

/// A group of the index: one filter, and the keys that have it.
pub type Group = u32;

#[derive(Debug)]
struct Entry<K> {
    filter: OfferFilter,
    keys: Vec<K>,
}

/// Filters by key, indexed. Keys with the same filter share one entry (a
/// group), checked once for all of them: candidates pick their criteria
/// from the same few lists, so a region's alerts have far fewer filters
/// than keys. Groups sit in slots (reused as they empty), the buckets
/// naming slots, so that a check reads a vector.
#[derive(Debug)]
pub struct FilterIndex<K> {
    slots: Vec<Option<Entry<K>>>,
    free: Vec<Group>,
    by_filter: FxHashMap<OfferFilter, Group>,
    /// A key's group and its place among the group's keys.
    by_key: FxHashMap<K, (Group, u32)>,
    buckets: FxHashMap<Bucket, Vec<Group>>,
}

impl<K> Default for FilterIndex<K> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_filter: FxHashMap::default(),
            by_key: FxHashMap::default(),
            buckets: FxHashMap::default(),
        }
    }
}

impl<K: Copy + Eq + Hash> FilterIndex<K> {
    /// Indexes `filter` under `key`, replacing the filter it had.
    pub fn insert(&mut self, key: K, filter: OfferFilter) {
        self.remove(key);
        let group = match self.by_filter.get(&filter) {
            Some(&g) => g,
            None => {
                let g = match self.free.pop() {
                    Some(g) => g,
                    None => {
                        self.slots.push(None);
                        (self.slots.len() - 1) as Group
                    }
                };
                for b in buckets(&filter) {
                    self.buckets.entry(b).or_default().push(g);
                }
                self.by_filter.insert(filter.clone(), g);
                self.slots[g as usize] = Some(Entry {
                    filter,
                    keys: Vec::new(),
                });
                g
            }
        };
        let entry = self.slots[group as usize]
            .as_mut()
            .expect("an indexed group is in its slot");
        self.by_key.insert(key, (group, entry.keys.len() as u32));
        entry.keys.push(key);
    }

    /// Removes the filter under `key`.
    pub fn remove(&mut self, key: K) {
        let Some((group, at)) = self.by_key.remove(&key) else {
            return;
        };
        let Some(entry) = self.slots[group as usize].as_mut() else {
            return;
        };
        entry.keys.swap_remove(at as usize);
        if let Some(&moved) = entry.keys.get(at as usize) {
            self.by_key.insert(moved, (group, at));
        }
        if !entry.keys.is_empty() {
            return;
        }
        let Some(Entry { filter, .. }) = self.slots[group as usize].take() else {
            return;
        };
        for b in buckets(&filter) {
            if let Some(groups) = self.buckets.get_mut(&b) {
                if let Some(i) = groups.iter().position(|g| *g == group) {
                    groups.swap_remove(i);
                }
                if groups.is_empty() {
                    self.buckets.remove(&b);
                }
            }
        }
        self.by_filter.remove(&filter);
        self.free.push(group);
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// How many distinct filters.
    pub fn groups(&self) -> usize {
        self.by_filter.len()
    }

    /// The keys of a group `matching` returned.
    pub fn keys(&self, group: Group) -> &[K] {
        self.slots[group as usize]
            .as_ref()
            .map_or(&[][..], |e| e.keys.as_slice())
    }

    /// The groups whose filter `offer` matches, each once, in order.
    pub fn matching(&self, offer: &Offer) -> Vec<Group> {
        let commune = &offer.location.commune;
        let position = commune.position();
        let mut out: Vec<Group> = Vec::new();
        let mut check = |b: Bucket| {
            for &g in self.buckets.get(&b).map_or(&[][..], Vec::as_slice) {
                if let Some(entry) = &self.slots[g as usize] {
                    if entry.filter.matches_at(offer, position) {
                        out.push(g);
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
        // Keys that share a filter share its group; removing one leaves
        // the others found.
        let shared = filters.len() as u32;
        for k in shared..shared + 3 {
            index.insert(k, filters[1].clone());
        }
        index.remove(1);
        index.insert(1, filters[1].clone());
        index.remove(shared + 1);
        assert_eq!(index.len(), filters.len() + 2);
        let distinct: std::collections::HashSet<&OfferFilter> = filters.iter().collect();
        assert!(
            distinct.len() < filters.len(),
            "two communes share a département"
        );
        assert_eq!(index.groups(), distinct.len());
        let mut offer = crate::partners::packed::tests::offer();
        for c in communes {
            for r in [vec!["D1102"], vec!["F1610", "G1602"], vec![]] {
                offer.location.commune = InseeCommune::parse(c).unwrap();
                offer.rome_codes = r.iter().map(|r| RomeCode::parse(r).unwrap()).collect();
                let mut wanted: Vec<u32> = (0u32..)
                    .zip(&filters)
                    .filter(|(_, f)| f.matches(&offer))
                    .map(|(k, _)| k)
                    .collect();
                if filters[1].matches(&offer) {
                    wanted.extend([shared, shared + 2]);
                }
                let mut found: Vec<u32> = index
                    .matching(&offer)
                    .into_iter()
                    .flat_map(|g| index.keys(g).to_vec())
                    .collect();
                found.sort_unstable();
                assert_eq!(found, wanted, "{c} {r:?}");
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
