//! End-to-end tests of Passerelle live in `tests/`: the real gateway, built
//! from its configuration, on port 0, against the real partner simulators.
//! This library holds what they share with the benchmarks: a second
//! subgraph for the federation tests.

pub mod grants;
