fn main() {
    eprintln!("the sse benchmark lands with the hand-tuned SDK issue");
}
