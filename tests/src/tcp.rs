//! Bare TCP for the tests that play an attacker: connections from a chosen loopback address
//! (all of 127.0.0.0/8 is this machine), and a hand-written request read to the close.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

/// `127.0.0.n`, a loopback address of its own (a different client as the server counts them).
pub fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// A TCP connection to `to` from `from` (any port).
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    socket.connect(to).await.expect("connect")
}

/// Reads until the server closes the connection (EOF or reset); what it sent. Fails after
/// `within`.
pub async fn read_to_close(tcp: &mut TcpStream, within: Duration) -> Vec<u8> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "still open after {within:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
}

/// Sends `GET path` from `from` with `Connection: close` and returns the whole answer as text.
pub async fn get_from(from: IpAddr, to: SocketAddr, path: &str) -> String {
    let mut tcp = connect_from(from, to).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let got = read_to_close(&mut tcp, Duration::from_secs(5)).await;
    String::from_utf8_lossy(&got).into_owned()
}
