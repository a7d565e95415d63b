//! `passerelle`: the GraphQL gateway of the Normandy apprenticeship plan.

fn main() -> std::process::ExitCode {
    passerelle::cli::run()
}
