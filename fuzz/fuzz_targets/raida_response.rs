//! The RAIDA client's response parser: `Response::parse` and every per-command decoder, on
//! arbitrary bytes, in clear and after type-1 decryption under both counter modes.
//!
//! Besides "no panic, no hang": a parsed response has exactly the length its size field says,
//! and a decoder that accepts `n` coins returns `n` answers.

#![no_main]

use cloudcoin_domain::{Denomination, SerialNumber};
use cloudcoin_raida::{
    Challenge, Command, CounterMode, HEADER_LEN, RaidaId, Request, RequestKey, Response,
};
use libfuzzer_sys::fuzz_target;

fn decode_all(response: &Response) {
    let bits = response.body.len().saturating_mul(8);
    for n in [0, 1, 2, 7, 8, 9, 64, response.body.len(), bits, bits.saturating_sub(3)] {
        if let Ok(checks) = response.checks(n) {
            assert_eq!(checks.len(), n);
        }
        if let Ok((checks, _)) = response.ticket(n) {
            assert_eq!(checks.len(), n);
        }
        if let Ok(found) = response.found(n) {
            assert_eq!(found.len(), n);
        }
    }
    if let Ok(free) = response.free_serials() {
        assert!(free.serials.len() <= 64);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(response) = Response::parse(data) else { return };
    let framed = if data.len() == HEADER_LEN { 0 } else { response.body.len() + 2 };
    assert_eq!(data.len(), HEADER_LEN + framed);
    decode_all(&response);

    let raida = RaidaId::new(0).expect("RAIDA 0");
    let mut request = Request::new(raida, Command::Detect, vec![0; 42]);
    request.nonce = [1, 2, 3, 4, 5, 6, 7, 8];
    request.challenge = Challenge::from_prefix([0x11; 12]);
    request.key = Some(RequestKey::new(Denomination::from_code(1), SerialNumber::new(7), [9; 16]));
    let _ = response.answers(&request);
    for mode in [CounterMode::Restart, CounterMode::Continue] {
        let mut decrypted = response.clone();
        decrypted.decrypt(&request, mode);
        assert_eq!(decrypted.body.len(), response.body.len());
        decode_all(&decrypted);
    }
});
