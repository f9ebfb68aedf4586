// Embedded migrations are read at compile time: without this a new migration
// folder would not trigger a rebuild and would silently be left out.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
