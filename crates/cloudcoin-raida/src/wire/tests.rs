//! The vectors of RAIDA.md §7 (copied here; the tests read no file outside the crate), and
//! the parser's refusals.

use cloudcoin_domain::{CoinId, Denomination, SerialNumber};

use super::*;
use crate::test_hex::{hex, hex16};

fn raida(n: u8) -> RaidaId {
    RaidaId::new(n).expect("a RAIDA id")
}

fn challenge_11() -> Challenge {
    Challenge::from_prefix([0x11; 12])
}

#[test]
fn crc_vectors() {
    let cases: [([u8; 12], &str); 3] = [
        ([0x11; 12], "d85df38f"),
        ([0x00; 12], "7bd5c66f"),
        (core::array::from_fn(|i| u8::try_from(i).expect("0..12")), "9270c965"),
    ];
    for (prefix, crc) in cases {
        let c = Challenge::from_prefix(prefix);
        assert_eq!(c.bytes()[12..], hex(crc)[..], "CRC of {prefix:02x?}");
        assert!(c.is_valid());
    }
    assert_eq!(challenge_11().bytes()[..], hex("111111111111111111111111d85df38f")[..]);
}

#[test]
fn a_changed_challenge_byte_breaks_its_crc() {
    let mut bytes = *challenge_11().bytes();
    bytes[3] ^= 1;
    assert!(!Challenge(bytes).is_valid());
}

#[test]
fn echo_request_vector() {
    let mut request = Request::new(raida(0), Command::Echo, Vec::new());
    request.nonce = [0; 8];
    request.challenge = challenge_11();
    let bytes = request.encode().expect("fits");
    assert_eq!(
        bytes[..HEADER_LEN],
        hex("0100000000000006000000000000000000000000000000120000000000000000")[..]
    );
    assert_eq!(bytes[HEADER_LEN..], hex("111111111111111111111111d85df38f3e3e")[..]);
}

#[test]
fn echo_response_vector() {
    // `0000fa00 0001 0000 00 000000` ‖ exec time ‖ challenge: 32 bytes, size 0.
    let mut bytes = hex("0000fa000001000000000000");
    bytes.extend_from_slice(&[0, 0, 0x01, 0x2c]);
    bytes.extend_from_slice(challenge_11().bytes());
    assert_eq!(bytes.len(), 32);
    let response = Response::parse(&bytes).expect("a valid echo answer");
    assert_eq!(response.status, Status::Success);
    assert_eq!(response.exec_micros, 300);
    assert!(response.body.is_empty());
    let mut request = Request::new(raida(0), Command::Echo, Vec::new());
    request.nonce = [0; 8];
    request.challenge = challenge_11();
    assert!(response.answers(&request));
    request.challenge = Challenge::from_prefix([0x12; 12]);
    assert!(!response.answers(&request), "another challenge is not answered by it");
}

#[test]
fn detect_mixed_vector() {
    let mut bytes = vec![0u8; 32];
    bytes[2] = 243;
    bytes[11] = 3;
    bytes.extend_from_slice(&hex("013e3e"));
    let response = Response::parse(&bytes).expect("valid");
    assert_eq!(response.checks(2).expect("two coins"), [Check::Pass, Check::Fail]);
    assert!(response.checks(9).is_err(), "nine coins need two bitfield bytes");
}

#[test]
fn bitfields_are_lsb_first() {
    let mut response = status_only(Status::Mixed);
    // Coins 0, 3, 8 and 9 pass: byte 0 = 0b0000_1001, byte 1 = 0b0000_0011.
    response.body = vec![0x09, 0x03];
    let passing: Vec<usize> = response
        .checks(10)
        .expect("10 coins")
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == Check::Pass)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(passing, [0, 3, 8, 9]);
}

#[test]
fn header_error_statuses_are_named() {
    // RAIDA.md §7: coin id 1 → 7, version 0 → 255, bad CRC → 37, and the others of the JSON.
    let cases = [
        (7, Status::WrongCoinId),
        (255, Status::WrongVersion),
        (37, Status::BadChallenge),
        (3, Status::WrongRaida),
        (33, Status::BadTerminator),
        (39, Status::BadRecordSize),
        (34, Status::KeyCoinUnknown),
    ];
    for (code, status) in cases {
        let mut bytes = vec![0u8; 32];
        bytes[2] = code;
        let response = Response::parse(&bytes).expect("a status-only answer");
        assert_eq!(response.status, status);
        assert_eq!(response.checks(1), Err(WireError::UnexpectedStatus { status }));
    }
}

#[test]
fn change_sns_vector() {
    // 250, size 259: DN − 1 (`00`) and 64 serial numbers.
    let mut bytes = vec![0u8; 32];
    bytes[2] = 250;
    bytes[9..12].copy_from_slice(&[0, 1, 3]);
    bytes.push(0);
    for sn in 1000..1064u32 {
        bytes.extend_from_slice(&sn.to_be_bytes());
    }
    bytes.extend_from_slice(&TERMINATOR);
    let response = Response::parse(&bytes).expect("valid");
    let free = response.free_serials().expect("a change SNs answer");
    assert_eq!(free.denomination, Denomination::from_code(0));
    assert_eq!(free.serials.len(), 64);
    assert_eq!(free.serials[63], SerialNumber::new(1063));

    let mut request_payload = hex("a1b2c3d4");
    request_payload.extend_from_slice(&[1, 1]);
    let request = Request::new(raida(0), Command::ChangeSerials, request_payload);
    assert_eq!(request.body_len(), 24, "a change SNs body is exactly 24 bytes");
}

#[test]
fn break_refused_and_make_change_absent_are_statuses() {
    for (code, status) in [(41, Status::PageNotReserved), (6, Status::InvalidCommand)] {
        let mut bytes = vec![0u8; 32];
        bytes[2] = code;
        assert_eq!(Response::parse(&bytes).expect("32 bytes").status, status);
    }
}

fn key_coin_request() -> Request {
    let payload = {
        let mut p = Vec::new();
        put_c5(&mut p, Denomination::from_code(1), SerialNumber::new(5));
        p.extend_from_slice(&hex("820a3fc6f7d59a62c6d90384853adac9"));
        put_c5(&mut p, Denomination::from_code(1), SerialNumber::new(6));
        p.extend_from_slice(&[0; 16]);
        p
    };
    let mut request = Request::new(raida(0), Command::Detect, payload);
    request.nonce = hex("0001020304050607").try_into().expect("8 bytes");
    request.challenge = challenge_11();
    request.key = Some(RequestKey::new(
        Denomination::from_code(1),
        SerialNumber::new(7),
        hex16("87d76f0a20024ba1ebd077ddf979f682"),
    ));
    request
}

#[test]
fn type_1_detect_request_vector() {
    let request = key_coin_request();
    let mut plain = request.challenge.bytes().to_vec();
    plain.extend_from_slice(&request.payload);
    assert_eq!(
        plain,
        hex(
            "111111111111111111111111d85df38f0100000005820a3fc6f7d59a62c6d90384853adac9010000000600000000000000000000000000000000"
        )
    );
    let bytes = request.encode().expect("fits");
    assert_eq!(
        bytes[..HEADER_LEN],
        hex("01000000010a00060000000000000000010100000007003c0001020304050607")[..]
    );
    assert_eq!(
        bytes[HEADER_LEN..],
        hex(
            "40f11ee678c5f2a9bff92f2c588f293e8e18a6e8dc554ee6ecac2ee524178c7b9105561efb0522d753142fc8f23748b9301040a36d72b3a3d29b3e3e"
        )[..]
    );
}

#[test]
fn type_1_detect_response_vector_in_both_counter_modes() {
    let request = key_coin_request();
    let mut bytes = vec![0u8; 32];
    bytes[2] = 243;
    bytes[6..8].copy_from_slice(&[0x06, 0x07]);
    bytes[11] = 3;
    bytes[16..32].copy_from_slice(&hex("96c67e1b31135ab0fac166cc2124050d"));
    bytes.extend_from_slice(&hex("9e3e3e"));
    let response = Response::parse(&bytes).expect("valid");
    assert_eq!(request.expected_challenge_echo()[..], bytes[16..32]);
    assert!(response.answers(&request));

    let mut continued = response.clone();
    continued.decrypt(&request, CounterMode::Continue);
    assert_eq!(continued.body, [0x01], "the counter continued 4 blocks past the nonce");
    assert_eq!(continued.checks(2).expect("two coins"), [Check::Pass, Check::Fail]);

    let mut restarted = response;
    restarted.decrypt(&request, CounterMode::Restart);
    assert_eq!(restarted.body, [0xcf], "the same bytes decrypted from counter 0");
}

#[test]
fn record_limits_of_section_1() {
    assert_eq!((MAX_BODY_LEN - BODY_OVERHEAD) / 21, 3_119);
    assert_eq!((MAX_BODY_LEN - BODY_OVERHEAD) / 37, 1_770);
    let fits = Request::new(raida(0), Command::Detect, vec![0; MAX_BODY_LEN - BODY_OVERHEAD]);
    assert_eq!(fits.encode().expect("exactly the limit").len(), HEADER_LEN + MAX_BODY_LEN);
    let over = Request::new(raida(0), Command::Detect, vec![0; MAX_BODY_LEN - BODY_OVERHEAD + 1]);
    assert_eq!(over.encode(), Err(WireError::BodyTooLong { len: MAX_BODY_LEN + 1 }));
}

#[test]
fn type_0_sends_ans_in_clear_and_type_1_does_not() {
    let an = [0x5a; 16];
    let mut payload = Vec::new();
    put_c5(&mut payload, Denomination::from_code(0), SerialNumber::new(1));
    payload.extend_from_slice(&an);
    let mut request = Request::new(raida(4), Command::Detect, payload);
    let clear = request.encode().expect("fits");
    assert!(clear.windows(16).any(|w| w == an));
    request.key = Some(RequestKey::new(Denomination::from_code(1), SerialNumber::new(7), [3; 16]));
    let hidden = request.encode().expect("fits");
    assert!(!hidden.windows(16).any(|w| w == an));
    assert_eq!(hidden[16], 1, "encryption type 1");
}

fn status_only(status: Status) -> Response {
    let mut bytes = vec![0u8; 32];
    bytes[2] = status.code();
    Response::parse(&bytes).expect("32 bytes")
}

#[test]
fn the_parser_refuses_what_is_not_a_frame() {
    assert_eq!(Response::parse(&[0; 31]), Err(WireError::Truncated { len: 31 }));
    let mut bytes = vec![0u8; 32];
    bytes[11] = 1;
    assert_eq!(Response::parse(&bytes), Err(WireError::SizeTooSmall { size: 1 }));
    bytes[11] = 3;
    assert_eq!(Response::parse(&bytes), Err(WireError::SizeMismatch { declared: 3, actual: 0 }));
    bytes.extend_from_slice(&[1, 0x3e, 0x3f]);
    assert_eq!(Response::parse(&bytes), Err(WireError::MissingTerminator));
    let mut extra = vec![0u8; 33];
    extra[2] = 250;
    assert_eq!(Response::parse(&extra), Err(WireError::SizeMismatch { declared: 0, actual: 1 }));
}

#[test]
fn find_and_ticket_answers() {
    let mut mixed = status_only(Status::FindMixed);
    mixed.body = vec![0, 1, 2];
    assert_eq!(mixed.found(3).expect("3 coins"), [Found::Neither, Found::An, Found::Pan]);
    mixed.body = vec![0, 3, 2];
    assert_eq!(mixed.found(3), Err(WireError::BadFindByte { byte: 3 }));
    assert_eq!(status_only(Status::FindAllPan).found(2).expect("2 coins"), [Found::Pan; 2]);

    let mut pass = status_only(Status::AllPass);
    pass.body = vec![0, 0, 1, 2];
    assert_eq!(pass.ticket(2).expect("valid"), (vec![Check::Pass; 2], Some(Ticket::new(258))));
    let mut mixed = status_only(Status::Mixed);
    mixed.body = vec![0b10, 9, 9, 9, 9];
    assert_eq!(
        mixed.ticket(2).expect("valid"),
        (vec![Check::Fail, Check::Pass], Some(Ticket::new(0x0909_0909)))
    );
    assert_eq!(status_only(Status::AllFail).ticket(2).expect("valid").1, None);
    assert!(status_only(Status::AllPass).ticket(2).is_err(), "241 without its ticket");
}

#[test]
fn key_coin_header_carries_a_negative_denomination_as_a_signed_byte() {
    let id = CoinId { denomination: Denomination::from_code(-8), serial: SerialNumber::new(9) };
    let mut request = Request::new(raida(0), Command::Echo, Vec::new());
    request.key = Some(RequestKey::new(id.denomination, id.serial, [0; 16]));
    let bytes = request.encode().expect("fits");
    assert_eq!(bytes[17], 0xf8);
    assert_eq!(bytes[18..22], [0, 0, 0, 9]);
}

#[test]
fn a_request_never_prints_its_keys() {
    let mut request = key_coin_request();
    request.payload.extend_from_slice(&[0xab; 16]);
    let text = format!("{request:?}");
    assert!(text.contains("Detect") && text.contains("payload_len"), "{text}");
    assert!(!text.contains("171") && !text.contains("135"), "no key byte: {text}");
}
