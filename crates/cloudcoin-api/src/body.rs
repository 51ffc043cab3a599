//! The body of every answer the API gives: a leaf the handlers and the service share.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use hyper::body::{Body, Frame, SizeHint};

/// The body of every answer: the whole JSON document, in one piece.
#[derive(Debug, Default)]
pub struct ApiBody {
    bytes: Option<Bytes>,
}

impl ApiBody {
    /// The body's bytes, without polling (the body is always complete).
    pub fn into_bytes(self) -> Bytes {
        self.bytes.unwrap_or_default()
    }

    pub(crate) fn response(status: StatusCode, bytes: Bytes) -> Response<ApiBody> {
        let mut r = Response::new(ApiBody { bytes: Some(bytes).filter(|b| !b.is_empty()) });
        *r.status_mut() = status;
        r
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.bytes.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}
