//! Console pages (being built).

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    vec![]
}
