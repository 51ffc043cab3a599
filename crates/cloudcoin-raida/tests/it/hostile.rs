//! A RAIDA that answers wrongly: a one-listener fake that serves all 25 addresses and shapes
//! its answers from each request, to show what the client refuses to read as an answer.

use std::net::SocketAddr;

use cloudcoin_raida::{AddressList, Answer, Client, Config, Silence};
use cloudcoin_raida_sim::generate_coins;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the fake answers a request.
#[derive(Clone, Copy)]
enum Shape {
    /// 241 with the right echoes.
    Honest,
    /// 241 echoing another challenge.
    WrongChallenge,
    /// 241 echoing other nonce bytes.
    WrongNonce,
    /// A header whose size field announces 16 MiB.
    Huge,
}

async fn fake(shape: Shape) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut header = [0u8; 32];
                if stream.read_exact(&mut header).await.is_err() {
                    return;
                }
                let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[22], header[23]]))];
                if stream.read_exact(&mut body).await.is_err() {
                    return;
                }
                let mut reply = vec![header[2], 0, 241, header[4], 0, 1, header[30], header[31]];
                reply.extend_from_slice(&[0; 8]);
                reply.extend_from_slice(&body[..16]);
                match shape {
                    Shape::Honest => {}
                    Shape::WrongChallenge => reply[20] ^= 1,
                    Shape::WrongNonce => reply[7] ^= 1,
                    Shape::Huge => reply[9] = 0xff,
                }
                let _ = stream.write_all(&reply).await;
            });
        }
    });
    addr
}

async fn detect_at(shape: Shape) -> Answer<cloudcoin_raida::Check> {
    let addr = fake(shape).await;
    let mut config = Config::new(AddressList::from_socket_addrs([addr; 25]));
    config.read_only_retries = 0;
    let client = Client::new(config).expect("valid");
    let coins = generate_coins(1, 1, 2);
    let answers = client.detect(&coins).await.expect("sent");
    let first = answers.coin(0).1[0].clone();
    assert!(answers.iter().all(|(_, a)| a.iter().all(|x| *x == first)));
    first
}

#[tokio::test]
async fn an_answer_with_the_right_echoes_is_read() {
    assert!(detect_at(Shape::Honest).await.is_pass());
}

#[tokio::test]
async fn an_answer_to_another_challenge_is_not_an_answer() {
    assert_eq!(detect_at(Shape::WrongChallenge).await, Answer::NoAnswer(Silence::Garbled));
}

#[tokio::test]
async fn an_answer_to_another_nonce_is_not_an_answer() {
    assert_eq!(detect_at(Shape::WrongNonce).await, Answer::NoAnswer(Silence::Garbled));
}

#[tokio::test]
async fn a_size_field_past_any_answer_is_not_read() {
    assert_eq!(detect_at(Shape::Huge).await, Answer::NoAnswer(Silence::Garbled));
}
