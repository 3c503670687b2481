//! Connection floods that send nothing (attack 1 of issue 22): one address cannot take more than
//! `max_sockets_per_ip` places, the last tenth of `max_connections` is kept for addresses that
//! are not flooding, and a full server still answers `/healthz` (and `/readyz`: full).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tests::tcp::{connect_from, get_from, loopback};
use tests::{TestServer, eventually};

#[tokio::test]
async fn one_address_cannot_shut_out_the_others() {
    let server = TestServer::start_with(|c| {
        c.max_connections = 400;
        c.max_sockets_per_ip = 100;
    })
    .await;
    let flooder = loopback(1);
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(connect_from(flooder, server.addr).await);
    }
    eventually("the flood counted", Duration::from_secs(10), || async {
        let refused = server
            .state
            .metrics
            .connections_refused_address
            .load(Relaxed);
        (refused >= 200).then_some(())
    })
    .await;
    assert_eq!(server.state.places.held_by(flooder), 100);
    // Another address is served as if nothing happened: a health probe and a guest login.
    let honest = loopback(2);
    let health = get_from(honest, server.addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let listing = get_from(honest, server.addr, "/v1/matches").await;
    assert!(listing.starts_with("HTTP/1.1 200"), "{listing}");
    // The flooder's next request is refused with the documented answer.
    let more = get_from(flooder, server.addr, "/v1/matches").await;
    assert!(more.starts_with("HTTP/1.1 429"), "{more}");
    assert!(
        more.contains("\"error\":\"too_many_connections_from_address\""),
        "{more}"
    );
    drop(idle);
}

#[tokio::test]
async fn the_last_tenth_is_kept_for_light_addresses_and_a_full_server_answers_health() {
    let server = TestServer::start_with(|c| {
        c.max_connections = 100;
        c.max_sockets_per_ip = 1000;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(connect_from(loopback(1), server.addr).await);
    }
    eventually(
        "90 places for the flooder",
        Duration::from_secs(10),
        || async {
            (server.state.places.held_by(loopback(1)) == 90
                && server
                    .state
                    .metrics
                    .connections_refused_address
                    .load(Relaxed)
                    == 10)
                .then_some(())
        },
    )
    .await;
    // Ten light addresses take the ten places kept for them.
    for n in 2..12 {
        idle.push(connect_from(loopback(n), server.addr).await);
    }
    eventually("the server full", Duration::from_secs(10), || async {
        (server.state.places.free() == 0).then_some(())
    })
    .await;
    let outsider = loopback(12);
    let alive = get_from(outsider, server.addr, "/healthz").await;
    assert!(alive.starts_with("HTTP/1.1 200"), "{alive}");
    assert!(alive.ends_with("{\"status\":\"ok\"}"), "{alive}");
    let ready = get_from(outsider, server.addr, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.ends_with("{\"status\":\"full\"}"), "{ready}");
    let other = get_from(outsider, server.addr, "/v1/matches").await;
    assert!(other.starts_with("HTTP/1.1 503"), "{other}");
    assert!(
        other.contains("\"error\":\"too_many_connections\""),
        "{other}"
    );
    drop(idle);
}
