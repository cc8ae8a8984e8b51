//! The `rostro` command-line tool. Commands arrive with the CLI issue.

fn main() {
    println!("rostro {}", env!("CARGO_PKG_VERSION"));
}
