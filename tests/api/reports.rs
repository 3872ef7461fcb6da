use probity::db::Backend;

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![]
}

#[allow(dead_code)]
async fn placeholder(_backend: Backend) {}
