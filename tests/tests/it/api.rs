//! The HTTP API driven without a socket: requests handed to `Api` as values.

use cloudcoin_api::wire::{Envelope, WalletSummary};
use cloudcoin_api::{Api, ApiConfig, codes};
use cloudcoin_tasks::testing::TestDataDir;
use http_body_util::{BodyExt, Full};

use crate::coin;

const HOST: &str = "127.0.0.1:8006";

async fn call(api: &Api, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, HOST)
        .header(http::header::AUTHORIZATION, "Bearer a test token")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes::Bytes::copy_from_slice(body.as_bytes())))
        .expect("a request");
    let response = api.handle(request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("the whole body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("a JSON answer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_and_refusals_through_the_service_value() {
    let dir = TestDataDir::with_bank(&[coin(1, 1), coin(0, 2)]).expect("data dir");
    let service = dir.open().await.expect("opens");
    let addr = HOST.parse().expect("an address");
    let config = ApiConfig::default()
        .with_allowed_hosts(ApiConfig::hosts_for(addr))
        .with_auth_token("a test token");
    let api = Api::new(service, config);

    let (status, body) = call(&api, "GET", "/api/v1/wallets", "").await;
    assert_eq!(status, 200, "{body}");
    let wallets: Envelope<Vec<WalletSummary>> = serde_json::from_value(body).expect("wire shape");
    let Envelope::Success(wallets) = wallets else { panic!("an error envelope") };
    assert_eq!(wallets.len(), 1);
    assert_eq!(wallets[0].balance.to_string(), "11");

    let folder = dir.export_dir().display().to_string();
    let request =
        format!(r#"{{"name":"Default","amount":"0.5","folder":{folder:?},"type":"zip"}}"#);
    let (status, body) = call(&api, "POST", "/api/v1/export", &request).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["payload"]["code"], codes::NO_EXACT_CHANGE, "{body}");
    api.shutdown().await;
}
