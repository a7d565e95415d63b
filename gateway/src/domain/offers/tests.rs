//! Searches of offers: filters, merges and the indexes of feeds.

use super::index::ByHash;

#[test]
fn records_are_found_by_hash_whatever_their_number() {
    // Hashes spread and clustered, some shared by several records.
    let mut next = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move || {
        next ^= next << 13;
        next ^= next >> 7;
        next ^= next << 17;
        next
    };
    for n in [0usize, 1, 3, 17, 1000, 5000] {
        let entries: Vec<(u64, u32)> = (0..n as u32)
            .map(|i| match i % 4 {
                0 => (random(), i),
                1 => (u64::from(i / 8), i),
                2 => (u64::MAX - u64::from(i % 5), i),
                _ => (42, i),
            })
            .collect();
        let index = ByHash::new(entries.clone());
        let mut asked: Vec<u64> = entries.iter().map(|(h, _)| *h).collect();
        asked.extend([0, 7, u64::MAX, random()]);
        for hash in asked {
            let mut found: Vec<u32> = index.get(hash).collect();
            found.sort_unstable();
            let wanted: Vec<u32> = entries
                .iter()
                .filter(|(h, _)| *h == hash)
                .map(|(_, i)| *i)
                .collect();
            assert_eq!(found, wanted, "hash {hash} among {n}");
        }
    }
    assert_eq!(ByHash::default().get(1).count(), 0);
}

#[test]
fn an_occupation_asked_finds_the_finer_codes_of_rome_4() {
    use passerelle_schema::RomeCode;

    let filter = super::OfferFilter {
        rome: vec![RomeCode::parse("D1102").unwrap()],
        ..Default::default()
    };
    // The live exchanges are asked for the occupation and its finer codes.
    let asked: Vec<String> = filter
        .query()
        .rome
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    assert!(asked.contains(&"D1102".to_owned()), "{asked:?}");
    assert!(asked.contains(&"D1108".to_owned()), "{asked:?}");
    // An offer filed under the finer code is of the occupation; one of
    // another occupation is not.
    assert!(filter.names(&RomeCode::parse("D1108").unwrap()));
    assert!(filter.names(&RomeCode::parse("D1102").unwrap()));
    assert!(!filter.names(&RomeCode::parse("D1104").unwrap()));
}
