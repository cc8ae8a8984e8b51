fn main() {
    eprintln!("the upload benchmark lands with the hand-tuned SDK issue");
}
