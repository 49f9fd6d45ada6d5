//! End-to-end smoke test over real TCP with tokio-postgres: simple and extended protocol.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_round_trip() {
    let s = common::Bedrock::start();
    let c = s.client().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
        .await
        .unwrap();
    c.execute("INSERT INTO t VALUES ($1, $2)", &[&1i32, &"one"])
        .await
        .unwrap();
    let rows = c
        .query("SELECT id, name FROM t WHERE id = $1", &[&1i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let id: i32 = rows[0].get(0);
    let name: &str = rows[0].get(1);
    assert_eq!((id, name), (1, "one"));
    let err = c
        .execute("INSERT INTO t VALUES (1, 'again')", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("23505"));
}
