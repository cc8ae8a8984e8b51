//! Rebuild the crate whenever the embedded OpenAPI document changes.

fn main() {
    println!("cargo:rerun-if-changed=../openapi/rostro.openapi.json");
    println!("cargo:rerun-if-changed=build.rs");
}
